"""The agents' workflow: requests, cases, routing, accounts and address search over the store.

The only layer that knows the workflow; the API and the command line go through it.
"""
