"""The shared test harness, imported as ``support.<module>``: no test module imports another."""
