"""Shared helpers of the astro-statistics course: data loaders and plotting helpers."""
