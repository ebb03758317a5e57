"""Convive: open platform for citizen security, coexistence and justice."""
