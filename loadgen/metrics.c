/* metrics — being written. */
#include <stddef.h>
