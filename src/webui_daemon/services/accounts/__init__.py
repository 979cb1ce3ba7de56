"""Accounts: sign-in and tokens, users, groups and the admin's auth settings."""
