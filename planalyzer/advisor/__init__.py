"""The index advisor: candidates from SQL, plans and statistics, proven with HypoPG.

`advise` recommends indexes for a workload and `audit` reviews the indexes a database already
has; both return plain data (`Advice`, `AuditReport`) with migration SQL.
"""
