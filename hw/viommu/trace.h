#include "trace/trace-hw_viommu.h"
