"""Sample-quality scores from a frozen classifier: Inception Score, FID and KID."""
