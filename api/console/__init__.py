"""The staff console at `/staff`: server-rendered pages whose small script uses the same JSON API as every client."""
