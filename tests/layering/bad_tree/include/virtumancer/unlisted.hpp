// A public header no layer owns.
#pragma once
