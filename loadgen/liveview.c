/* liveview — being written. */
#include <stddef.h>
