// The unit tests' main: the native modules are registered first, as every
// program that starts tide does (bindings/modules.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "modules.hpp"

int main(int argc, char** argv) {
  tide::bindings::register_modules();
  return doctest::Context(argc, argv).run();
}
