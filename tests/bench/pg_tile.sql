-- uncached tiles: a random tile of zoom z in [tx0..tx1] x [ty0..ty1], made as
-- Martin and pg_tileserv make it: the features meeting the buffered tile,
-- ST_AsMVTGeom of their Web Mercator geometry (extent 4096, buffer 64,
-- clipped), ST_AsMVT with the attributes onemap's tiles carry and fid as id.
\set tx random(:tx0, :tx1)
\set ty random(:ty0, :ty1)
WITH b AS (
  SELECT ST_TileEnvelope(:z, :tx, :ty) AS env,
         ST_Transform(ST_TileEnvelope(:z, :tx, :ty, margin => 64.0 / 4096), 4490) AS qenv),
m AS (
  SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.env, 4096, 64, true) AS geom,
         t.fid, t.code, t.dlbm, t.dlmc, t.qsxz, t.village_code, t.owner, t.area_mu
  FROM parcels t, b
  WHERE t.geom && b.qenv)
SELECT ST_AsMVT(m, 'parcels', 4096, 'geom', 'fid') FROM m;
