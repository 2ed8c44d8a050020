"""The assessment portal: Django project package and its domain apps."""
