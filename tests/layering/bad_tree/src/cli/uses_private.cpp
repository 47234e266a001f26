// The cli may not include the spec layer's private header.
#include "../spec/spec_internal.hpp"
