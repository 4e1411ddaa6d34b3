-- load.lua: the wrk script of the benchmark. It makes one random request
-- per call, of the workload named by its first argument, and prints one
-- machine-readable summary line at the end (read by bench.py).
--
--   wrk ... -s load.lua URL -- MODE key=value...
--
-- MODE   request
-- items  /collections/parcels/items?bbox=B&limit=100     B: random bw x bh box
--        (with asof=T: &asof=T, the parcels as they were at T)
-- filter /collections/parcels/items?limit=100&filter=F   F: dlbm IN (...) AND S_INTERSECTS(geometry, POLYGON(box))
-- stats  /collections/parcels/stats?bbox=B&group_by=dlbm&clip=true
-- locate /locate?lon=X&lat=Y                            random point
-- tile   /collections/parcels/tiles/WebMercatorQuad/z/y/x   random tile of zoom z in [x0..x1] x [y0..y1]
-- list   one random line of the file `file`, prefixed with `prefix`
-- path   always the same request: `path` (e.g. path=/collections?f=json)
--
-- Boxes and points are uniform over the extent minx miny maxx maxy, boxes
-- lying wholly inside it: the same distribution as the pgbench scripts.

local opt = {}
local lines = {}
local counter = 0

local function uniform(lo, hi)
   return lo + math.random() * (hi - lo)
end

local function box()
   local x0 = uniform(opt.minx, opt.maxx - opt.bw)
   local y0 = uniform(opt.miny, opt.maxy - opt.bh)
   return x0, y0, x0 + opt.bw, y0 + opt.bh
end

local function urlencode(s)
   return (s:gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", string.byte(c))
   end))
end

function setup(thread)
   counter = counter + 1
   thread:set("thread_id", counter)
end

function init(args)
   opt.mode = args[1]
   for i = 2, #args do
      local k, v = args[i]:match("^([%w_]+)=(.*)$")
      if k then
         opt[k] = tonumber(v) or v
      end
   end
   math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
   if opt.mode == "list" then
      for line in io.lines(opt.file) do
         lines[#lines + 1] = line
      end
   end
end

local builders = {}

builders.items = function()
   local x0, y0, x1, y1 = box()
   return string.format("/collections/parcels/items?bbox=%.9f,%.9f,%.9f,%.9f&limit=100",
                        x0, y0, x1, y1) .. (opt.asof and ("&asof=" .. opt.asof) or "")
end

builders.filter = function()
   local x0, y0, x1, y1 = box()
   local f = string.format("%s AND S_INTERSECTS(geometry, POLYGON((%.9f %.9f,%.9f %.9f,"
                              .. "%.9f %.9f,%.9f %.9f,%.9f %.9f)))",
                           opt.attr, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
   return "/collections/parcels/items?limit=100&filter-lang=cql2-text&filter=" .. urlencode(f)
end

builders.stats = function()
   local x0, y0, x1, y1 = box()
   return string.format("/collections/parcels/stats?bbox=%.9f,%.9f,%.9f,%.9f"
                           .. "&group_by=dlbm&clip=true", x0, y0, x1, y1)
end

builders.locate = function()
   return string.format("/locate?lon=%.9f&lat=%.9f", uniform(opt.minx, opt.maxx),
                        uniform(opt.miny, opt.maxy))
end

builders.tile = function()
   return string.format("/collections/parcels/tiles/WebMercatorQuad/%d/%d/%d", opt.z,
                        math.random(opt.y0, opt.y1), math.random(opt.x0, opt.x1))
end

builders.list = function()
   return (opt.prefix or "") .. lines[math.random(1, #lines)]
end

builders.path = function()
   return opt.path
end

function request()
   return wrk.format("GET", builders[opt.mode]())
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("WRK requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d "
                             .. "errors=%d status_errors=%d max_us=%d\n",
                          summary.requests, summary.duration, summary.bytes,
                          latency:percentile(50), latency:percentile(99),
                          e.connect + e.read + e.write + e.timeout, e.status, latency.max))
end
