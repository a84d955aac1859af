"""Customer 360: finding a customer and showing everything known about them."""
