-- Helpful-vote load for wrk: many users voting on many reviews at once, through the API.
--
--   wrk -t2 -c64 -d20s --latency -s bench/votes.lua http://HOST:PORT -- PAIRS THREADS SEEN
--
-- PAIRS is a file of "user_id review_id" lines written by bench/prepare_votes.py: every pair
-- is a vote that may be cast (a review with a text, not the user's own, not voted on yet), and
-- every review appears in one pair only. Each wrk thread takes every THREADS-th pair, so no two
-- threads share a pair. Each request picks one of the thread's pairs at random and sends
--
--   PUT /api/v1/reviews/{review_id}/vote   Authorization: Bearer mq_bench_{user_id}
--   {"helpful": true}  the first time, then false, true, … : each one a real change
--
-- so the first request on a pair inserts a vote and the following ones flip it. A 409 (the same
-- vote repeated) only happens when two requests on one pair overtake each other in flight.
--
-- Every answer's status is counted per thread. For a 200 the answer names the review, so the
-- script also records, per pair, which values (true, false) a 200 confirmed. done() prints the
-- counts and writes SEEN: "review_id mask sent ok" for every pair it sent a request for: mask
-- 0 = no value confirmed, 1 = only true, 2 = only false, 3 = both; sent = requests sent, ok =
-- 200 answers. bench/vote_check.py compares that with the database. A pair with sent > ok had
-- a request not answered 200: a 409, or one still in flight when wrk stopped (wrk drops those,
-- but the server may have committed them); only for such pairs may the row differ from what
-- the 200 answers say.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local file, nthreads = args[1], tonumber(args[2])
   seen_file = args[3]
   users, reviews = {}, {}
   local i = 0
   for line in io.lines(file) do
      if i % nthreads == id then
         local u, r = line:match("^(%d+) (%d+)$")
         users[#users + 1] = u
         reviews[#reviews + 1] = r
      end
      i = i + 1
   end
   n = #users
   if n == 0 then
      error("no pairs for thread " .. id .. " in " .. file)
   end
   last = {}   -- per pair index: the value sent last
   sent = {}   -- per review id: requests sent
   seen = {}   -- per review id: 1 | 2 | 3, the values a 200 confirmed
   oks = {}    -- per review id: 200 answers
   status = {} -- answers per status code
   bad = 0     -- 200 answers whose body could not be read
   headers = { ["Content-Type"] = "application/json" }
   math.randomseed(os.time() * 1000 + id * 7919)
end

local TRUE, FALSE = '{"helpful":true}', '{"helpful":false}'

function request()
   local i = math.random(n)
   local helpful = not last[i]
   last[i] = helpful
   sent[reviews[i]] = (sent[reviews[i]] or 0) + 1
   headers["Authorization"] = "Bearer mq_bench_" .. users[i]
   return wrk.format("PUT", "/api/v1/reviews/" .. reviews[i] .. "/vote", headers,
                     helpful and TRUE or FALSE)
end

function response(code, hdrs, body)
   status[code] = (status[code] or 0) + 1
   if code == 200 then
      local r = body:match('"review_id":(%d+)')
      local v = body:match('"my_vote":(%a+)')
      if r and (v == "true" or v == "false") then
         local bit = (v == "true") and 1 or 2
         oks[r] = (oks[r] or 0) + 1
         local m = seen[r] or 0
         if m ~= 3 and m ~= bit then
            seen[r] = m + bit
         end
      else
         bad = bad + 1
      end
   end
end

function done(summary, latency, requests)
   local total, codes, unread, confirmed, file = {}, {}, 0, 0, nil
   for _, t in ipairs(threads) do
      for code, count in pairs(t:get("status")) do
         if total[code] == nil then codes[#codes + 1] = code end
         total[code] = (total[code] or 0) + count
      end
      unread = unread + t:get("bad")
      file = file or t:get("seen_file")
   end
   local out = assert(io.open(file, "w"))
   local outstanding = 0
   for _, t in ipairs(threads) do
      local seen, oks = t:get("seen"), t:get("oks")
      for r, n in pairs(t:get("sent")) do
         out:write(r, " ", seen[r] or 0, " ", n, " ", oks[r] or 0, "\n")
         if seen[r] then confirmed = confirmed + 1 end
         outstanding = outstanding + n
      end
   end
   out:close()
   table.sort(codes)
   local secs = summary.duration / 1e6
   local answered = 0
   for _, code in ipairs(codes) do answered = answered + total[code] end
   io.write("Votes:\n")
   for _, code in ipairs(codes) do
      io.write(string.format("  status %d: %d (%.1f %%)\n", code, total[code],
                             100 * total[code] / math.max(answered, 1)))
   end
   io.write(string.format("  answers: %d in %.2f s; sent and not answered when wrk stopped: %d\n",
                          answered, secs, outstanding - answered))
   io.write(string.format("  votes/s (200 answers): %.0f\n", (total[200] or 0) / secs))
   io.write(string.format("  pairs with a 200: %d\n", confirmed))
   io.write(string.format("  unreadable 200 bodies: %d\n", unread))
end
