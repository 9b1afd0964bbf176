// Always-on assertion for broken invariants. Never use it on anything that
// came from outside the process (netlink, packets, config, control requests).
#pragma once

#include <cstdio>
#include <cstdlib>

#define TVF_ASSERT(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "tvf: invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
