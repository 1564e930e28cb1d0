-- Random 1 MiB range reads for wrk: a player seeking around a film, many at once.
--
--   wrk -t2 -c32 -d20s --latency -s bench/stream-ranges.lua http://HOST:PORT -- PATH SIZE SEED [check]
--
-- Every request is `GET PATH` with `Range: bytes=START-END`, END = START + 1 MiB - 1, START
-- drawn uniformly from the whole file (SIZE bytes, not aligned to anything). Each wrk thread
-- draws from its own generator seeded with SEED and the thread's number, so nginx and Marquee
-- are asked for the same ranges in the same order, thread by thread, for as long as each run
-- lasts.
--
-- With `check`, the script also defines response(): every answer must be 206 with
-- `Content-Range: bytes START-END/SIZE` for a 1 MiB range inside the file and a body of exactly
-- 1 MiB. That makes wrk copy each body into Lua (about two extra copies of every MiB), which
-- costs wrk CPU that the servers would otherwise have, so the measured runs are made without
-- it; bench/stream.sh makes a short check run against each server first.
--
-- done() prints one line that bench/stream.sh reads:
--   stream: requests N bytes B seconds S p50_us X p99_us Y errors_connect .. read .. write ..
--           status .. timeout .. [checked N bad_status N bad_range N bad_body N]
-- (on one line), bytes counting headers and bodies as wrk read them.

local MiB = 1048576
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   path = args[1]
   size = tonumber(args[2])
   local seed = tonumber(args[3])
   check = args[4] == "check"
   if not path or not size or not seed or size < MiB then
      error("usage: -- PATH SIZE SEED [check], with SIZE at least 1 MiB")
   end
   math.randomseed(seed * 1000 + id)
   last_start = size - MiB -- the highest START that leaves a whole MiB
   headers = {}
   checked, bad_status, bad_range, bad_body = 0, 0, 0, 0
   if check then
      -- Defined only when asked for: wrk buffers bodies for Lua only if response() exists.
      response = check_response
   end
end

function request()
   local start = math.floor(math.random() * (last_start + 1))
   headers["Range"] = string.format("bytes=%d-%d", start, start + MiB - 1)
   return wrk.format("GET", path, headers)
end

function check_response(status, hdrs, body)
   checked = checked + 1
   if status ~= 206 then
      bad_status = bad_status + 1
   end
   local cr
   for name, value in pairs(hdrs) do
      if name:lower() == "content-range" then cr = value end
   end
   local s, e, total = (cr or ""):match("^bytes (%d+)%-(%d+)/(%d+)$")
   s, e, total = tonumber(s), tonumber(e), tonumber(total)
   if not s or total ~= size or e - s + 1 ~= MiB or s > last_start then
      bad_range = bad_range + 1
   end
   if #body ~= MiB then
      bad_body = bad_body + 1
   end
end

function done(summary, latency, requests)
   local checked, bad_status, bad_range, bad_body = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      checked = checked + (t:get("checked") or 0)
      bad_status = bad_status + (t:get("bad_status") or 0)
      bad_range = bad_range + (t:get("bad_range") or 0)
      bad_body = bad_body + (t:get("bad_body") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      "stream: requests %d bytes %d seconds %.3f p50_us %d p99_us %d errors_connect %d " ..
      "errors_read %d errors_write %d errors_status %d errors_timeout %d",
      summary.requests, summary.bytes, summary.duration / 1e6,
      latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.status, e.timeout))
   if checked > 0 then
      io.write(string.format(" checked %d bad_status %d bad_range %d bad_body %d",
                             checked, bad_status, bad_range, bad_body))
   end
   io.write("\n")
end
