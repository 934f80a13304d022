"""Datasets: raw downloads become one manifest per dataset, the contract every later stage reads."""
