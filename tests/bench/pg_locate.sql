-- locate: a random point inside the extent; the parcels at that point (the
-- one layer that holds data in the benchmark), as the JSON of onemap's
-- /locate?lon=...&lat=...
\set x :minx + random(0, 1000000) * (:maxx - :minx) / 1000000.0
\set y :miny + random(0, 1000000) * (:maxy - :miny) / 1000000.0
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:x, :y), 4490) AS pt)
SELECT json_build_object(
  'point', (SELECT json_build_array(ST_X(pt), ST_Y(pt)) FROM p),
  'hits', json_build_object('parcels', coalesce(
      (SELECT json_agg(t.fid) FROM parcels t, p
       WHERE t.geom && p.pt AND ST_Intersects(t.geom, p.pt)), '[]'::json))
)::text;
