"""The partner sandbox: the customer's side of each contract, talking to us over real HTTP."""
