"""The application layer: commands carried out on the domain core through its ports."""
