"""Tests of who may do what: sign-up and sign-in, tokens, the route auth matrix, access
grants, the socket's peer identity and the shared daemon on one box."""
