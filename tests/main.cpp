// The one Boost.Test entry point of every test program.
#define BOOST_TEST_MODULE maestro
#include <boost/test/unit_test.hpp>
