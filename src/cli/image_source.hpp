// The applier's ImageSource on the machine running virtumancer: src/image's cache, downloads,
// digests and progress line.
#pragma once
#include <memory>

#include "virtumancer/applier.hpp"

namespace virtumancer::cli {

// Downloads go to image::default_cache_dir(); progress lines go to stderr.
std::unique_ptr<ImageSource> local_image_source();

} // namespace virtumancer::cli
