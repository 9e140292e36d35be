"""Contact-volume forecasting: calendar count regression, rolling-origin backtest, plots."""
