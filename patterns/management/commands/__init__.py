"""`report` and the `demo` that ends with a group report."""
