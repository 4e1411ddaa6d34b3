/* gen: the demo and synthetic data generator (placeholder). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "onemap-gen: not built yet\n");
    return 1;
}
