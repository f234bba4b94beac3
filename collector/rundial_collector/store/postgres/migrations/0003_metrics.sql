-- series and metric chunks, chunk aggregates (store/postgres/metrics.py)
SELECT 1;  -- placeholder until the part lands
