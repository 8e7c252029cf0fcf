"""The table's items: PynamoDB models, queries and conditional writes."""

from chalicelib.aws import share_botocore_data, share_pynamodb_clients

# Before any model builds its connection (each builds a botocore session): one
# parse of botocore's service files per process, and one client for every model
# (chalicelib.aws says why).
share_botocore_data()
share_pynamodb_clients()
