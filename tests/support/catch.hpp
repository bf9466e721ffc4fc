// Catch2 2.13 (Debian 12) or 3.x, whichever the system has.
#pragma once
#if defined(AIO_CATCH3)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
