"""Veeam Backup Enterprise Manager REST API emulator (test asset of backupops.veeam_em).

A real HTTPS server on loopback, built from the EM documentation (docs/em-api-facts.md),
so the collection's client, modules and role can be tested end to end without a live EM.
Run it with ``python3 tests/emulator --help``; drive it from tests with
``from emulator.harness import Emulator``.
"""
