/* jsontext: checks on JSON text before any parser sees it. It owns no
 * memory and knows no schema; callers on either side of core use it. */
#include "jsontext.h"

int json_depth_check(const char *text, size_t len, size_t max_depth, struct err *e)
{
    size_t depth = 0, i;
    int in_str = 0;
    for (i = 0; i < len; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max_depth)
                return err_set(e, ERR_BAD_REQUEST,
                               "body: JSON nested deeper than %zu levels (limit max_depth) at byte %zu",
                               max_depth, i);
        } else if (ch == ']' || ch == '}') {
            if (depth)
                depth--;
        }
    }
    return 0;
}
