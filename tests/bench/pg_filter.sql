-- items with a CQL2 filter: farmland classes (dlbm 0101-0103) meeting a random
-- bw x bh (1 km x 1 km) polygon, limit 100, the FeatureCollection built as in
-- pg_items.sql; onemap gets the same filter as CQL2 text:
--   dlbm IN ('0101','0102','0103') AND S_INTERSECTS(geometry, POLYGON((...)))
\set x0 :minx + random(0, 1000000) * (:maxx - :minx - :bw) / 1000000.0
\set y0 :miny + random(0, 1000000) * (:maxy - :miny - :bh) / 1000000.0
\set x1 :x0 + :bw
\set y1 :y0 + :bh
WITH q AS (SELECT ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490) AS env),
page AS (
  SELECT t.fid, t.geom, t.code, t.dlbm, t.dlmc, t.qsxz, t.village_code, t.owner,
         t.area_m2, t.area_mu
  FROM parcels t, q
  WHERE t.dlbm IN ('0101', '0102', '0103') AND t.geom && q.env
    AND ST_Intersects(t.geom, q.env)
  LIMIT 100)
SELECT json_build_object(
  'type', 'FeatureCollection',
  'numberMatched', (SELECT count(*) FROM parcels t, q
                    WHERE t.dlbm IN ('0101', '0102', '0103') AND t.geom && q.env
                      AND ST_Intersects(t.geom, q.env)),
  'numberReturned', (SELECT count(*) FROM page),
  'timeStamp', date_trunc('second', now()),
  'features', coalesce((SELECT json_agg(json_build_object(
      'type', 'Feature', 'id', p.fid,
      'geometry', ST_AsGeoJSON(p.geom, 9, 0)::json,
      'properties', json_build_object('code', p.code, 'dlbm', p.dlbm, 'dlmc', p.dlmc,
          'qsxz', p.qsxz, 'village_code', p.village_code, 'owner', p.owner,
          'area_m2', p.area_m2, 'area_mu', p.area_mu))) FROM page p), '[]'::json)
)::text;
