-- artifact versions, files, aliases, uses, media items, blob holders (store/postgres/artifacts.py)
SELECT 1;  -- placeholder until the part lands
