"""Local servers the end-to-end tests start on 127.0.0.1: moto (real S3/IAM/STS emulator),
a recording forwarding proxy, an Orchestra state API and AWS credential endpoints."""
