/* main: the onemap command (placeholder until the server lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "onemap: not built yet\n");
    return 1;
}
