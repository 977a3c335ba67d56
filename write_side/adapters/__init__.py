"""Write-side adapters: SQL tables beside the events, written in the events' transactions."""
