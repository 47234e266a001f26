// Who is acting, and which revision of the specs: shared by load, apply and audit.
#pragma once
#include <string>
#include <vector>

namespace virtumancer {

// VIRTUMANCER_ACTOR, else GITHUB_ACTOR, else GITLAB_USER_LOGIN, else the OS user.
// `flag` (from --actor) wins when non-empty.
std::string current_actor(const std::string& flag = {});

// The git commit of the spec paths (with "-dirty" when the work tree has changes), or
// "content:<hash>" of the given file hashes when they are not in a git work tree.
std::string spec_revision(const std::vector<std::string>& paths,
                          const std::vector<std::string>& file_hashes = {});

} // namespace virtumancer
