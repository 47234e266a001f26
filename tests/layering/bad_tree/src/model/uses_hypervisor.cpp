// The model may not use the hypervisor.
#include "virtumancer/diag.hpp"
#include "virtumancer/hypervisor.hpp"
