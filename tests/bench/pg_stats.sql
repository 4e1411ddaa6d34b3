-- stats: a random bw x bh (1 km x 1 km) polygon inside the extent; parcels
-- meeting it grouped by dlbm, each group's count and the geodesic area of its
-- parts inside the polygon, as the JSON of onemap's
-- /collections/parcels/stats?bbox=...&group_by=dlbm&clip=true.
\set x0 :minx + random(0, 1000000) * (:maxx - :minx - :bw) / 1000000.0
\set y0 :miny + random(0, 1000000) * (:maxy - :miny - :bh) / 1000000.0
\set x1 :x0 + :bw
\set y1 :y0 + :bh
WITH q AS (SELECT ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490) AS env),
g AS (
  SELECT t.dlbm AS key, count(*) AS n,
         sum(ST_Area(ST_Intersection(t.geom, q.env)::geography)) AS a
  FROM parcels t, q
  WHERE t.geom && q.env AND ST_Intersects(t.geom, q.env)
  GROUP BY t.dlbm)
SELECT json_build_object(
  'collection', 'parcels', 'clip', true, 'group_by', 'dlbm',
  'total', (SELECT json_build_object('count', coalesce(sum(n), 0),
                   'area_m2', coalesce(sum(a), 0), 'area_mu', coalesce(sum(a), 0) * 15 / 10000,
                   'area_ha', coalesce(sum(a), 0) / 10000) FROM g),
  'groups', (SELECT json_agg(json_build_object('key', key, 'count', n, 'area_m2', a,
                   'area_mu', a * 15 / 10000, 'area_ha', a / 10000) ORDER BY a DESC) FROM g)
)::text;
