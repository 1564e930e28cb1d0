-- Search and catalog-filter requests for wrk, drawn at random from a file of paths.
--
--   wrk -t2 -c64 -d20s --latency -s bench/catalog-queries.lua http://HOST:PORT -- PATHS_FILE SEED
--
-- PATHS_FILE holds one request path per line (made by bench/catalog.sh from the imported data:
-- title words, prefixes as typed, typos, people; filters by genre, years, runtime and rating
-- with each sort). Each thread draws from its own generator seeded with SEED and its number,
-- so two servers get the same requests in the same order. Any status but 200 counts as an
-- error. done() prints one line that bench/catalog.sh reads:
--   catalog: requests N seconds S p50_us X p99_us Y max_us Z non200 N errors N

local paths = {}
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   for line in io.lines(args[1]) do
      if #line > 0 then table.insert(paths, line) end
   end
   math.randomseed(tonumber(args[2] or "1") * 1000 + id)
   non200 = 0
end

function request()
   return wrk.format("GET", paths[math.random(#paths)], { Accept = "application/json" })
end

function response(status, headers, body)
   if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
   local bad = 0
   for _, t in ipairs(threads) do bad = bad + (t:get("non200") or 0) end
   local e = summary.errors
   io.write(string.format(
      "catalog: requests %d seconds %.2f p50_us %d p99_us %d max_us %d non200 %d errors %d\n",
      summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
      latency.max, bad, e.connect + e.read + e.write + e.timeout + e.status))
end
