"""Everything that leaves the portal: outbound HTTP, signing. Takes plain data, no models."""
