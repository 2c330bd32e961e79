"""The shared test harness: imported by test modules as ``support.<module>``; no test module imports another."""
