-- log lines and spans, and what the live stream reads (store/postgres/events.py)
SELECT 1;  -- placeholder until the part lands
