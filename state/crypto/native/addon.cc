// N-API surface of the native Starknet crypto addon (plain node_api.h, no wrappers).
// Every felt entering here is checked: a non-BigInt is a TypeError, a negative value or one
// >= P is a RangeError with code ERR_FELT_RANGE. Batch buffers hold 32-byte big-endian felts.
#include <node_api.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "stark.h"

namespace {

const size_t DEFAULT_KEY_CACHE_CAPACITY = 256;

#define CHECK_NAPI(env, call)                                      \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error((env), "ERR_NAPI", "N-API call failed: " #call); \
      return nullptr;                                              \
    }                                                              \
  } while (0)

bool throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return false;
}
bool throw_range(napi_env env, const char* msg) {
  napi_throw_range_error(env, "ERR_FELT_RANGE", msg);
  return false;
}

// Reads a BigInt felt; on failure a JS exception is pending and false is returned.
bool read_felt(napi_env env, napi_value v, U256& out, const char* what) {
  char msg[160];
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_bigint) {
    snprintf(msg, sizeof msg, "%s: expected a bigint felt", what);
    return throw_type(env, msg);
  }
  int sign = 0;
  size_t count = 4;
  uint64_t words[4] = {0, 0, 0, 0};
  if (napi_get_value_bigint_words(env, v, &sign, &count, words) != napi_ok) return throw_type(env, what);
  if (sign) {
    snprintf(msg, sizeof msg, "%s: negative value is not a felt", what);
    return throw_range(env, msg);
  }
  if (count > 4) {
    snprintf(msg, sizeof msg, "%s: value is not below the field prime P", what);
    return throw_range(env, msg);
  }
  for (int i = 0; i < 4; i++) out.w[i] = (size_t)i < count ? words[i] : 0;
  if (!stark::is_felt(out)) {
    snprintf(msg, sizeof msg, "%s: value is not below the field prime P", what);
    return throw_range(env, msg);
  }
  return true;
}

napi_value make_bigint(napi_env env, const U256& v) {
  napi_value out;
  int n = 4;
  while (n > 0 && v.w[n - 1] == 0) n--;
  if (napi_create_bigint_words(env, 0, n == 0 ? 1 : n, v.w, &out) != napi_ok) return nullptr;
  return out;
}

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  if (argc < want) {
    char msg[80];
    snprintf(msg, sizeof msg, "expected %zu arguments, got %zu", want, argc);
    return throw_type(env, msg);
  }
  return true;
}

// Reads a JS array of bigint felts.
bool read_felt_array(napi_env env, napi_value arr, std::vector<U256>& out, const char* what) {
  bool is_array = false;
  napi_is_array(env, arr, &is_array);
  if (!is_array) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s: expected an array of bigint felts", what);
    return throw_type(env, msg);
  }
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  out.resize(n);
  char name[120];
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok) return throw_type(env, what);
    snprintf(name, sizeof name, "%s[%u]", what, i);
    if (!read_felt(env, e, out[i], name)) return false;
  }
  return true;
}

napi_value make_bigint_array(napi_env env, const std::vector<U256>& v) {
  napi_value arr;
  if (napi_create_array_with_length(env, v.size(), &arr) != napi_ok) return nullptr;
  for (size_t i = 0; i < v.size(); i++) {
    napi_value e = make_bigint(env, v[i]);
    if (!e || napi_set_element(env, arr, (uint32_t)i, e) != napi_ok) return nullptr;
  }
  return arr;
}

// Reads a Uint8Array (or Buffer) whose length is a multiple of `record` bytes.
bool read_bytes(napi_env env, napi_value v, const uint8_t*& data, size_t& len, size_t record, const char* what) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  char msg[160];
  if (!is_ta) {
    snprintf(msg, sizeof msg, "%s: expected a Uint8Array/Buffer", what);
    return throw_type(env, msg);
  }
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    snprintf(msg, sizeof msg, "%s: expected a Uint8Array/Buffer", what);
    return throw_type(env, msg);
  }
  if (len % record != 0) {
    snprintf(msg, sizeof msg, "%s: length %zu is not a multiple of %zu bytes", what, len, record);
    napi_throw_range_error(env, "ERR_BUFFER_SIZE", msg);
    return false;
  }
  data = (const uint8_t*)ptr;
  return true;
}

// Decodes `count` consecutive 32-byte felts, checking each is < P.
bool decode_felts(napi_env env, const uint8_t* data, size_t count, U256* out, const char* what) {
  for (size_t i = 0; i < count; i++) {
    u256_from_be(out[i], data + 32 * i);
    if (!stark::is_felt(out[i])) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: felt at index %zu is not below the field prime P", what, i);
      return throw_range(env, msg);
    }
  }
  return true;
}

napi_value new_buffer(napi_env env, size_t len, uint8_t** data) {
  napi_value buf;
  if (napi_create_buffer(env, len, (void**)data, &buf) != napi_ok) return nullptr;
  return buf;
}

stark::KeyCache* key_cache(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return (stark::KeyCache*)data;
}

// ---- exported functions ----

// One pair of bigint felts; kind 0 = Pedersen, 1 = Poseidon.
napi_value PairHash(napi_env env, napi_callback_info info, int kind) {
  napi_value argv[2];
  U256 a, b;
  if (!get_args(env, info, 2, argv) || !read_felt(env, argv[0], a, kind == 0 ? "pedersen a" : "poseidon a") ||
      !read_felt(env, argv[1], b, kind == 0 ? "pedersen b" : "poseidon b"))
    return nullptr;
  return make_bigint(env, kind == 0 ? stark::pedersen(a, b) : stark::poseidon(a, b));
}
napi_value Pedersen(napi_env env, napi_callback_info info) { return PairHash(env, info, 0); }
napi_value Poseidon(napi_env env, napi_callback_info info) { return PairHash(env, info, 1); }

napi_value PoseidonMany(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<U256> v;
  if (!get_args(env, info, 1, argv) || !read_felt_array(env, argv[0], v, "poseidonMany values")) return nullptr;
  return make_bigint(env, stark::poseidon_many(v.data(), (int)v.size()));
}

// Pairs given as two bigint arrays; kind 0 = Pedersen, 1 = Poseidon.
napi_value PairBatch(napi_env env, napi_callback_info info, int kind) {
  napi_value argv[2];
  std::vector<U256> a, b;
  if (!get_args(env, info, 2, argv) || !read_felt_array(env, argv[0], a, "batch a") ||
      !read_felt_array(env, argv[1], b, "batch b"))
    return nullptr;
  if (a.size() != b.size()) {
    napi_throw_range_error(env, "ERR_BATCH_LENGTH", "batch: a and b must have the same length");
    return nullptr;
  }
  std::vector<U256> out(a.size());
  if (kind == 0) stark::pedersen_batch(out.data(), a.data(), b.data(), (int)a.size());
  else stark::poseidon_batch(out.data(), a.data(), b.data(), (int)a.size());
  return make_bigint_array(env, out);
}
napi_value PedersenBatch(napi_env env, napi_callback_info info) { return PairBatch(env, info, 0); }
napi_value PoseidonBatch(napi_env env, napi_callback_info info) { return PairBatch(env, info, 1); }

// Pairs packed in one buffer: a0 b0 a1 b1 ... (64 bytes per pair) -> 32 bytes per hash.
napi_value PairBatchBuffer(napi_env env, napi_callback_info info, int kind) {
  napi_value argv[1];
  const uint8_t* data;
  size_t len;
  if (!get_args(env, info, 1, argv) || !read_bytes(env, argv[0], data, len, 64, "pairs buffer")) return nullptr;
  const size_t n = len / 64;
  std::vector<U256> in(2 * n), a(n), b(n), out(n);
  if (!decode_felts(env, data, 2 * n, in.data(), "pairs buffer")) return nullptr;
  for (size_t i = 0; i < n; i++) a[i] = in[2 * i], b[i] = in[2 * i + 1];
  if (kind == 0) stark::pedersen_batch(out.data(), a.data(), b.data(), (int)n);
  else stark::poseidon_batch(out.data(), a.data(), b.data(), (int)n);
  uint8_t* dst;
  napi_value buf = new_buffer(env, 32 * n, &dst);
  if (!buf) return nullptr;
  for (size_t i = 0; i < n; i++) u256_to_be(dst + 32 * i, out[i]);
  return buf;
}
napi_value PedersenBatchBuffer(napi_env env, napi_callback_info info) { return PairBatchBuffer(env, info, 0); }
napi_value PoseidonBatchBuffer(napi_env env, napi_callback_info info) { return PairBatchBuffer(env, info, 1); }

// ---- trie-node tables ----
// A block's new trie nodes as one table, hashed in one call (see hashNodeTable in
// state/patricia-trie.ts, which builds the table and holds the same algorithm in JS).
// Entry i is table[3i..3i+2] = (len, a, b):
//   len 0      : hash = H(a, b)            (a binary node)
//   len 1..251 : hash = H(a, b) + len mod P (an edge node: a = child, b = path)
// An operand with bit 31 set names an earlier entry (its hash); otherwise it indexes `felts`
// (32-byte big-endian). Entries are hashed by rank (1 + the highest rank they name), one
// batch per rank. Output: 98 bytes per entry: prefix, hash, a, b, len, so bytes [0, 33) can
// be a store key and [33, 97 or 98) the stored node.
const uint32_t TABLE_REF = 0x80000000u;
const size_t TABLE_RECORD = 98;

bool hash_node_table(int kind, const uint32_t* table, size_t n, const U256* felts, size_t nf, uint8_t prefix,
                     uint8_t* out, char* err, size_t err_len) {
  static const U256 P = u256_from_hex("0800000000000011000000000000000000000000000000000000000000000001");
  std::vector<uint32_t> rank(n);
  uint32_t max_rank = 0;
  auto operand_rank = [&](size_t i, uint32_t v, uint32_t& r) -> bool {
    if (v & TABLE_REF) {
      uint32_t j = v & ~TABLE_REF;
      if (j >= i) {
        snprintf(err, err_len, "node table entry %zu names entry %u, which is not earlier", i, j);
        return false;
      }
      r = rank[j];
    } else {
      if (v >= nf) {
        snprintf(err, err_len, "node table entry %zu names felt %u of %zu", i, v, nf);
        return false;
      }
      r = 0;
    }
    return true;
  };
  for (size_t i = 0; i < n; i++) {
    uint32_t len = table[3 * i], ra, rb;
    if (len > 251) {
      snprintf(err, err_len, "node table entry %zu has edge length %u (at most 251)", i, len);
      return false;
    }
    if (!operand_rank(i, table[3 * i + 1], ra) || !operand_rank(i, table[3 * i + 2], rb)) return false;
    rank[i] = (ra > rb ? ra : rb) + 1;
    if (rank[i] > max_rank) max_rank = rank[i];
  }
  // Entries grouped by rank (counting sort, stable).
  std::vector<size_t> start(max_rank + 2, 0), order(n);
  for (size_t i = 0; i < n; i++) start[rank[i] + 1]++;
  for (uint32_t r = 1; r <= max_rank + 1; r++) start[r] += start[r - 1];
  std::vector<size_t> fill(start.begin(), start.end());
  for (size_t i = 0; i < n; i++) order[fill[rank[i]]++] = i;

  std::vector<U256> hash(n), a, b, h;
  auto operand = [&](uint32_t v) -> const U256& { return (v & TABLE_REF) ? hash[v & ~TABLE_REF] : felts[v]; };
  for (uint32_t r = 1; r <= max_rank; r++) {
    size_t lo = start[r], m = start[r + 1] - lo;
    a.resize(m), b.resize(m), h.resize(m);
    for (size_t k = 0; k < m; k++) {
      size_t i = order[lo + k];
      a[k] = operand(table[3 * i + 1]);
      b[k] = operand(table[3 * i + 2]);
    }
    if (kind == 0) stark::pedersen_batch(h.data(), a.data(), b.data(), (int)m);
    else stark::poseidon_batch(h.data(), a.data(), b.data(), (int)m);
    for (size_t k = 0; k < m; k++) {
      size_t i = order[lo + k];
      U256 x = h[k];
      uint32_t len = table[3 * i];
      if (len != 0) {
        U256 l = {{len, 0, 0, 0}};
        u256_add(x, x, l);
        if (!u256_lt(x, P)) u256_sub(x, x, P);
      }
      hash[i] = x;
      uint8_t* rec = out + TABLE_RECORD * i;
      rec[0] = prefix;
      u256_to_be(rec + 1, x);
      u256_to_be(rec + 33, a[k]);
      u256_to_be(rec + 65, b[k]);
      rec[97] = (uint8_t)len;
    }
  }
  return true;
}

// The arguments of hashNodeTable and hashNodeTableAsync, checked; the felts decoded.
struct TableArgs {
  int32_t kind = 0, prefix = 0;
  const uint32_t* table = nullptr;
  size_t count = 0;  // u32 values in the table (3 per entry)
  std::vector<U256> felts;
};

bool read_table_args(napi_env env, napi_value* argv, const char* name, TableArgs& out) {
  char msg[160];
  if (napi_get_value_int32(env, argv[0], &out.kind) != napi_ok || (out.kind != 0 && out.kind != 1)) {
    snprintf(msg, sizeof msg, "%s kind: expected 0 (Pedersen) or 1 (Poseidon)", name);
    return throw_type(env, msg);
  }
  if (napi_get_value_int32(env, argv[3], &out.prefix) != napi_ok || out.prefix < 0 || out.prefix > 255) {
    snprintf(msg, sizeof msg, "%s prefix: expected a byte", name);
    return throw_type(env, msg);
  }
  bool is_ta = false;
  napi_is_typedarray(env, argv[1], &is_ta);
  napi_typedarray_type type;
  size_t offset = 0;
  void* ptr = nullptr;
  napi_value ab;
  if (!is_ta || napi_get_typedarray_info(env, argv[1], &type, &out.count, &ptr, &ab, &offset) != napi_ok ||
      type != napi_uint32_array || out.count % 3 != 0) {
    snprintf(msg, sizeof msg, "%s table: expected a Uint32Array of (len, a, b) triples", name);
    return throw_type(env, msg);
  }
  out.table = (const uint32_t*)ptr;
  const uint8_t* fdata;
  size_t flen;
  char what[48];
  snprintf(what, sizeof what, "%s felts", name);
  if (!read_bytes(env, argv[2], fdata, flen, 32, what)) return false;
  out.felts.resize(flen / 32);
  return decode_felts(env, fdata, out.felts.size(), out.felts.data(), what);
}

// hashNodeTable(kind: 0 Pedersen | 1 Poseidon, table: Uint32Array, felts: Uint8Array, prefix: number) -> Buffer
napi_value HashNodeTable(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  TableArgs args;
  if (!get_args(env, info, 4, argv) || !read_table_args(env, argv, "hashNodeTable", args)) return nullptr;
  const size_t n = args.count / 3;
  uint8_t* dst;
  napi_value buf = new_buffer(env, TABLE_RECORD * n, &dst);
  if (!buf) return nullptr;
  char err[160];
  if (!hash_node_table(args.kind, args.table, n, args.felts.data(), args.felts.size(), (uint8_t)args.prefix, dst, err, sizeof err)) {
    napi_throw_range_error(env, "ERR_NODE_TABLE", err);
    return nullptr;
  }
  return buf;
}

// ---- the hash thread ----
// The async functions (hashNodeTableAsync, poseidonProgramAsync, ecdsaVerifyBatchAsync) run
// on native threads of their own, two per JS environment (see HashThreads: bulk and urgent;
// each started on first use, stopped with the environment), so the calling thread can go on
// with its own work. Jobs run one at a time in
// submission order; each settles a promise on the calling thread. No JS heap or event loop on
// the hash thread: only the job's inputs (copied and checked on the calling thread) and its
// output buffer, all owned by the job.
struct HashThread;

struct Job {
  virtual ~Job() {}
  // Node tables of one hash kind (0 or 1) may be hashed together; other jobs are -1.
  virtual int table_kind() const { return -1; }
  virtual void run(HashThread& ht) = 0;
  napi_ref out_ref = nullptr;  // the output Buffer, kept alive until the job settles
  uint8_t* out = nullptr;
  napi_deferred deferred = nullptr;
  bool ok = false;
  const char* code = "ERR_NODE_TABLE";
  char err[160] = {0};
};

struct TableJob : Job {
  int kind = 0;
  uint8_t prefix = 0;
  std::vector<uint32_t> table;
  std::vector<U256> felts;
  int table_kind() const override { return kind; }
  void run(HashThread&) override {
    ok = hash_node_table(kind, table.data(), table.size() / 3, felts.data(), felts.size(), prefix, out, err, sizeof err);
  }
};

// A Poseidon program (see PoseidonProgramAsync): checked when it was submitted.
struct ProgramJob : Job {
  std::vector<uint32_t> ops;
  std::vector<U256> felts;
  void run(HashThread&) override;
};

// A Poseidon program, then ECDSA checks whose message hashes are program operands (a felt
// index, or TABLE_REF | job: a job's output); see PoseidonProgramVerifyAsync.
struct ProgramVerifyJob : ProgramJob {
  std::vector<uint32_t> msgs;  // one operand per check
  std::vector<U256> checks;    // (r, s, publicKey) per check
  size_t jobs = 0;
  void run(HashThread& ht) override;
};

// ECDSA checks, (msgHash, r, s, publicKey) each; one byte out per check.
struct EcdsaJob : Job {
  std::vector<U256> items;
  void run(HashThread& ht) override;
};

struct HashThread {
  std::thread thread;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Job*> queue;
  bool stop = false;
  bool started = false;
  napi_threadsafe_function done = nullptr;
  size_t outstanding = 0;  // submitted, not yet settled (touched on the JS thread only)
  // The hash thread's own key tables (the JS thread's cache is not shared across threads).
  stark::KeyCache keys{DEFAULT_KEY_CACHE_CAPACITY};

  void run() {
    for (;;) {
      std::vector<Job*> jobs;
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop) return;
        // Node tables queued together (of one hash kind) are hashed together: their ranks
        // merge into bigger batches, and big batches take the faster affine path.
        jobs.push_back(queue.front());
        queue.pop_front();
        const int kind = jobs[0]->table_kind();
        size_t entries = kind < 0 ? 0 : ((TableJob*)jobs[0])->table.size() / 3;
        while (kind >= 0 && !queue.empty() && entries < MAX_COALESCED_ENTRIES && queue.front()->table_kind() == kind) {
          entries += ((TableJob*)queue.front())->table.size() / 3;
          jobs.push_back(queue.front());
          queue.pop_front();
        }
      }
      if (jobs.size() == 1 || !hash_together(jobs)) {
        for (Job* job : jobs) job->run(*this);
      }
      for (Job* job : jobs) napi_call_threadsafe_function(done, job, napi_tsfn_blocking);
    }
  }

  static const size_t MAX_COALESCED_ENTRIES = 1 << 20;

  // One table made of several jobs' tables (operands renumbered), hashed once, its records
  // handed back to each job. False (nothing settled) when the joint table is refused, so
  // each job is then hashed alone and only a bad one fails.
  static bool hash_together(const std::vector<Job*>& all) {
    std::vector<TableJob*> jobs;
    for (Job* j : all) jobs.push_back((TableJob*)j);
    size_t entries = 0, nf = 0;
    for (const TableJob* j : jobs) {
      // Each table must be valid on its own: renumbered, a bad operand could name another's.
      const size_t n = j->table.size() / 3;
      for (size_t i = 0; i < n; i++) {
        if (j->table[3 * i] > 251) return false;
        for (int o = 1; o <= 2; o++) {
          uint32_t v = j->table[3 * i + o];
          if ((v & TABLE_REF) ? (v & ~TABLE_REF) >= i : v >= j->felts.size()) return false;
        }
      }
      entries += n, nf += j->felts.size();
    }
    std::vector<uint32_t> table(3 * entries);
    std::vector<U256> felts;
    felts.reserve(nf);
    size_t at = 0;
    for (const TableJob* j : jobs) {
      const uint32_t base_entry = (uint32_t)(at / 3), base_felt = (uint32_t)felts.size();
      for (size_t k = 0; k < j->table.size(); k += 3) {
        table[at + k] = j->table[k];
        for (int o = 1; o <= 2; o++) {
          uint32_t v = j->table[k + o];
          table[at + k + o] = (v & TABLE_REF) ? (TABLE_REF | ((v & ~TABLE_REF) + base_entry)) : v + base_felt;
        }
      }
      at += j->table.size();
      felts.insert(felts.end(), j->felts.begin(), j->felts.end());
    }
    std::vector<uint8_t> out(TABLE_RECORD * entries);
    char err[160];
    if (!hash_node_table(jobs[0]->kind, table.data(), entries, felts.data(), felts.size(), 0, out.data(), err, sizeof err))
      return false;
    size_t rec = 0;
    for (TableJob* j : jobs) {
      const size_t n = j->table.size() / 3;
      memcpy(j->out, out.data() + TABLE_RECORD * rec, TABLE_RECORD * n);
      for (size_t i = 0; i < n; i++) j->out[TABLE_RECORD * i] = j->prefix;
      j->ok = true;
      rec += n;
    }
    return true;
  }
};

// A Poseidon program: a sequence of poseidon_hash_many jobs, each written as its input count
// then that many operands; an operand with bit 31 set names an earlier job's output,
// otherwise it indexes `felts`. Output: 32 bytes (big-endian) per job, in order.
// Checks the program against `nf` felts; returns the number of jobs, or -1 with `err` set.
long check_program(const uint32_t* ops, size_t n, size_t nf, char* err, size_t err_len) {
  size_t pos = 0;
  long jobs = 0;
  while (pos < n) {
    const uint32_t len = ops[pos++];
    if (len > n - pos) {
      snprintf(err, err_len, "poseidon program job %ld wants %u operands, %zu remain", jobs, len, n - pos);
      return -1;
    }
    for (uint32_t k = 0; k < len; k++) {
      const uint32_t v = ops[pos + k];
      if ((v & TABLE_REF) ? (long)(v & ~TABLE_REF) >= jobs : v >= nf) {
        snprintf(err, err_len, "poseidon program job %ld operand %u names %s %u", jobs, k, (v & TABLE_REF) ? "job" : "felt",
                 v & ~TABLE_REF);
        return -1;
      }
    }
    pos += len;
    jobs++;
  }
  return jobs;
}

// Runs a checked program; `outputs` ends with every job's output (also written to `out`).
void run_program(const uint32_t* ops, size_t n, const U256* felts, uint8_t* out, std::vector<U256>& outputs) {
  std::vector<U256> in;
  size_t pos = 0;
  while (pos < n) {
    const uint32_t len = ops[pos++];
    in.resize(len);
    for (uint32_t k = 0; k < len; k++) {
      const uint32_t v = ops[pos + k];
      in[k] = (v & TABLE_REF) ? outputs[v & ~TABLE_REF] : felts[v];
    }
    pos += len;
    const U256 h = stark::poseidon_many(in.data(), (int)len);
    u256_to_be(out + 32 * outputs.size(), h);
    outputs.push_back(h);
  }
}

void run_program(const uint32_t* ops, size_t n, const U256* felts, uint8_t* out) {
  std::vector<U256> outputs;
  run_program(ops, n, felts, out, outputs);
}

void ProgramJob::run(HashThread&) {
  run_program(ops.data(), ops.size(), felts.data(), out);
  ok = true;
}

void ProgramVerifyJob::run(HashThread& ht) {
  std::vector<U256> outputs;
  run_program(ops.data(), ops.size(), felts.data(), out, outputs);
  uint8_t* valid = out + 32 * jobs;
  for (size_t i = 0; i < msgs.size(); i++) {
    const uint32_t v = msgs[i];
    const U256& m = (v & TABLE_REF) ? outputs[v & ~TABLE_REF] : felts[v];
    valid[i] = stark::ecdsa_verify(&ht.keys, m, checks[3 * i], checks[3 * i + 1], checks[3 * i + 2]) ? 1 : 0;
  }
  ok = true;
}

void EcdsaJob::run(HashThread& ht) {
  const size_t n = items.size() / 4;
  for (size_t i = 0; i < n; i++)
    out[i] = stark::ecdsa_verify(&ht.keys, items[4 * i], items[4 * i + 1], items[4 * i + 2], items[4 * i + 3]) ? 1 : 0;
  ok = true;
}

void settle_job(napi_env env, napi_value, void* context, void* data) {
  HashThread* ht = (HashThread*)context;
  Job* job = (Job*)data;
  if (env != nullptr) {
    if (job->ok) {
      napi_value out;
      napi_get_reference_value(env, job->out_ref, &out);
      napi_resolve_deferred(env, job->deferred, out);
    } else {
      napi_value code, msg, err;
      napi_create_string_utf8(env, job->code, NAPI_AUTO_LENGTH, &code);
      napi_create_string_utf8(env, job->err, NAPI_AUTO_LENGTH, &msg);
      napi_create_range_error(env, code, msg, &err);
      napi_reject_deferred(env, job->deferred, err);
    }
    napi_delete_reference(env, job->out_ref);
    if (--ht->outstanding == 0) napi_unref_threadsafe_function(env, ht->done);
  }
  delete job;
}

void stop_hash_thread(void* data) {
  HashThread* ht = (HashThread*)data;
  if (ht->started) {
    {
      std::lock_guard<std::mutex> lock(ht->m);
      ht->stop = true;
    }
    ht->cv.notify_all();
    ht->thread.join();
    for (Job* job : ht->queue) delete job;
    napi_release_threadsafe_function(ht->done, napi_tsfn_abort);
  }
}

// Gives `job` an output Buffer of `out_len` bytes and a promise, and queues it on the hash
// thread (starting the thread on first use). Takes ownership of `job`; nullptr with a JS
// exception pending on failure.
// Two hash threads per JS environment: bulk work (a block's node tables and commitments) and
// the jobs a request waits on (admission's hashes and signatures), so a request never waits
// behind a block's hashing.
struct HashThreads {
  HashThread bulk, urgent;
};

void stop_hash_threads(void* data) {
  HashThreads* t = (HashThreads*)data;
  stop_hash_thread(&t->bulk);
  stop_hash_thread(&t->urgent);
  delete t;
}

napi_value submit_job(napi_env env, HashThreads* threads, Job* job, size_t out_len, const char* name, bool urgent = false) {
  HashThread* ht = urgent ? &threads->urgent : &threads->bulk;
  napi_value out = new_buffer(env, out_len, &job->out);
  napi_value promise;
  if (!out || napi_create_reference(env, out, 1, &job->out_ref) != napi_ok ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    delete job;
    char msg[120];
    snprintf(msg, sizeof msg, "%s: could not set up the job", name);
    napi_throw_error(env, "ERR_NAPI", msg);
    return nullptr;
  }
  if (!ht->started) {
    napi_value tname;
    napi_create_string_utf8(env, "perpchain hash thread", NAPI_AUTO_LENGTH, &tname);
    if (napi_create_threadsafe_function(env, nullptr, nullptr, tname, 0, 1, nullptr, nullptr, ht, settle_job,
                                        &ht->done) != napi_ok) {
      napi_delete_reference(env, job->out_ref);
      delete job;
      char msg[120];
      snprintf(msg, sizeof msg, "%s: could not create the completion channel", name);
      napi_throw_error(env, "ERR_NAPI", msg);
      return nullptr;
    }
    napi_unref_threadsafe_function(env, ht->done);
    ht->thread = std::thread([ht] { ht->run(); });
    ht->started = true;
  }
  if (ht->outstanding++ == 0) napi_ref_threadsafe_function(env, ht->done);  // keep the loop alive
  {
    std::lock_guard<std::mutex> lock(ht->m);
    ht->queue.push_back(job);
  }
  ht->cv.notify_one();
  return promise;
}

// The hash threads of an async function, its `want` arguments in argv, and in `urgent` whether
// an optional argument after them is true (the job then goes to the urgent thread).
HashThreads* thread_of(napi_env env, napi_callback_info info, size_t want, napi_value* argv, const char* name, bool* urgent = nullptr) {
  size_t argc = want + 1;
  napi_value args[8];
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, &data) != napi_ok) return nullptr;
  for (size_t i = 0; i < want && i < argc; i++) argv[i] = args[i];
  if (urgent != nullptr) {
    *urgent = false;
    if (argc > want) napi_get_value_bool(env, args[want], urgent);  // not a boolean: not urgent
  }
  if (argc < want) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments", name, want);
    throw_type(env, msg);
    return nullptr;
  }
  return (HashThreads*)data;
}

// hashNodeTableAsync(kind, table: Uint32Array, felts: Uint8Array, prefix) -> Promise<Buffer>
// Same arguments, checks and result as hashNodeTable; table errors reject the promise.
napi_value HashNodeTableAsync(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  HashThreads* ht = thread_of(env, info, 4, argv, "hashNodeTableAsync");
  if (!ht) return nullptr;
  TableArgs args;
  if (!read_table_args(env, argv, "hashNodeTableAsync", args)) return nullptr;
  const size_t count = args.count;
  TableJob* job = new TableJob();
  job->kind = args.kind;
  job->prefix = (uint8_t)args.prefix;
  job->table.assign(args.table, args.table + count);
  job->felts = std::move(args.felts);
  return submit_job(env, ht, job, TABLE_RECORD * (count / 3), "hashNodeTableAsync");
}

// Reads a Uint32Array argument.
bool read_u32s(napi_env env, napi_value v, const uint32_t*& data, size_t& count, const char* what) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  napi_typedarray_type type;
  size_t offset = 0;
  void* ptr = nullptr;
  napi_value ab;
  if (!is_ta || napi_get_typedarray_info(env, v, &type, &count, &ptr, &ab, &offset) != napi_ok || type != napi_uint32_array) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s: expected a Uint32Array", what);
    return throw_type(env, msg);
  }
  data = (const uint32_t*)ptr;
  return true;
}

// The arguments of poseidonProgram(Async), checked; the felts decoded. Returns the job count or -1.
long read_program_args(napi_env env, napi_value* argv, const char* name, const uint32_t*& ops, size_t& n, std::vector<U256>& felts) {
  char what[64];
  snprintf(what, sizeof what, "%s ops", name);
  if (!read_u32s(env, argv[0], ops, n, what)) return -1;
  const uint8_t* fdata;
  size_t flen;
  snprintf(what, sizeof what, "%s felts", name);
  if (!read_bytes(env, argv[1], fdata, flen, 32, what)) return -1;
  felts.resize(flen / 32);
  if (!decode_felts(env, fdata, felts.size(), felts.data(), what)) return -1;
  char err[160];
  const long jobs = check_program(ops, n, felts.size(), err, sizeof err);
  if (jobs < 0) napi_throw_range_error(env, "ERR_POSEIDON_PROGRAM", err);
  return jobs;
}

// poseidonProgram(ops: Uint32Array, felts: Uint8Array) -> Buffer (32 bytes per job); see check_program.
napi_value PoseidonProgram(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  const uint32_t* ops;
  size_t n;
  std::vector<U256> felts;
  if (!get_args(env, info, 2, argv)) return nullptr;
  const long jobs = read_program_args(env, argv, "poseidonProgram", ops, n, felts);
  if (jobs < 0) return nullptr;
  uint8_t* dst;
  napi_value buf = new_buffer(env, 32 * (size_t)jobs, &dst);
  if (!buf) return nullptr;
  run_program(ops, n, felts.data(), dst);
  return buf;
}

// The hash threads and the checked program (ops, felts) of a program job's call, read into
// `job`, with its job count and urgency; nullptr (and `job` deleted) with a JS exception
// pending when an argument is refused.
HashThreads* read_program_job(napi_env env, napi_callback_info info, size_t want, napi_value* argv, const char* name,
                              ProgramJob* job, long& jobs, bool& urgent) {
  HashThreads* ht = thread_of(env, info, want, argv, name, &urgent);
  const uint32_t* ops;
  size_t n;
  if (!ht || (jobs = read_program_args(env, argv, name, ops, n, job->felts)) < 0) {
    delete job;
    return nullptr;
  }
  job->ops.assign(ops, ops + n);
  return ht;
}

// poseidonProgramAsync(ops, felts) -> Promise<Buffer>: poseidonProgram on the hash thread; a
// malformed program or felt throws here, at once.
napi_value PoseidonProgramAsync(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool urgent = false;
  long jobs = 0;
  ProgramJob* job = new ProgramJob();
  HashThreads* ht = read_program_job(env, info, 2, argv, "poseidonProgramAsync", job, jobs, urgent);
  if (!ht) return nullptr;
  return submit_job(env, ht, job, 32 * (size_t)jobs, "poseidonProgramAsync", urgent);
}

// poseidonProgramVerifyAsync(ops, felts, checks: Uint8Array of 96-byte (r, s, publicKey)
// records, msgs: Uint32Array, urgent) -> Promise<Buffer>: the program's outputs (32 bytes per
// job), then one byte per check (1 = valid): check i verifies (r, s) for publicKey over the
// message named by msgs[i], a program operand (a felt index, or TABLE_REF | job for a job's
// output). One job on one hash thread: a caller waiting on hashes and then on their
// signatures gets both back in one trip. Malformed input throws here, at once.
napi_value PoseidonProgramVerifyAsync(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  bool urgent = false;
  long jobs = 0;
  ProgramVerifyJob* job = new ProgramVerifyJob();
  HashThreads* ht = read_program_job(env, info, 4, argv, "poseidonProgramVerifyAsync", job, jobs, urgent);
  if (!ht) return nullptr;
  const uint8_t* cdata;
  size_t clen, nm;
  const uint32_t* msgs;
  if (!read_bytes(env, argv[2], cdata, clen, 96, "poseidonProgramVerifyAsync checks") ||
      !read_u32s(env, argv[3], msgs, nm, "poseidonProgramVerifyAsync msgs")) {
    delete job;
    return nullptr;
  }
  if (nm != clen / 96) {
    delete job;
    char msg[120];
    snprintf(msg, sizeof msg, "poseidonProgramVerifyAsync: %zu checks but %zu message operands", clen / 96, nm);
    napi_throw_range_error(env, "ERR_POSEIDON_PROGRAM", msg);
    return nullptr;
  }
  for (size_t i = 0; i < nm; i++) {
    const uint32_t v = msgs[i];
    if ((v & TABLE_REF) ? (v & ~TABLE_REF) >= (uint32_t)jobs : v >= job->felts.size()) {
      delete job;
      char msg[120];
      snprintf(msg, sizeof msg, "poseidonProgramVerifyAsync: check %zu names %s %u", i, (v & TABLE_REF) ? "job" : "felt", v & ~TABLE_REF);
      napi_throw_range_error(env, "ERR_POSEIDON_PROGRAM", msg);
      return nullptr;
    }
  }
  job->checks.resize(clen / 32);
  if (!decode_felts(env, cdata, job->checks.size(), job->checks.data(), "poseidonProgramVerifyAsync checks")) {
    delete job;
    return nullptr;
  }
  job->msgs.assign(msgs, msgs + nm);
  job->jobs = (size_t)jobs;
  return submit_job(env, ht, job, 32 * (size_t)jobs + nm, "poseidonProgramVerifyAsync", urgent);
}

// ecdsaVerifyBatchAsync(items: Uint8Array of 128-byte (msgHash, r, s, publicKey) records)
// -> Promise<Buffer>, one byte per item (1 = valid), verified on the hash thread.
napi_value EcdsaVerifyBatchAsync(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bool urgent = false;
  HashThreads* ht = thread_of(env, info, 1, argv, "ecdsaVerifyBatchAsync", &urgent);
  if (!ht) return nullptr;
  const uint8_t* data;
  size_t len;
  if (!read_bytes(env, argv[0], data, len, 128, "signatures buffer")) return nullptr;
  EcdsaJob* job = new EcdsaJob();
  job->items.resize(len / 32);
  if (!decode_felts(env, data, job->items.size(), job->items.data(), "signatures buffer")) {
    delete job;
    return nullptr;
  }
  return submit_job(env, ht, job, len / 128, "ecdsaVerifyBatchAsync", urgent);
}

napi_value EcdsaVerify(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  U256 m, r, s, pub;
  if (!get_args(env, info, 4, argv) || !read_felt(env, argv[0], m, "ecdsaVerify msgHash") ||
      !read_felt(env, argv[1], r, "ecdsaVerify r") || !read_felt(env, argv[2], s, "ecdsaVerify s") ||
      !read_felt(env, argv[3], pub, "ecdsaVerify publicKey"))
    return nullptr;
  napi_value out;
  napi_get_boolean(env, stark::ecdsa_verify(key_cache(env), m, r, s, pub), &out);
  return out;
}

// Items packed as msgHash r s publicKey (128 bytes each) -> one byte per item (1 = valid).
napi_value EcdsaVerifyBatchBuffer(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const uint8_t* data;
  size_t len;
  if (!get_args(env, info, 1, argv) || !read_bytes(env, argv[0], data, len, 128, "signatures buffer")) return nullptr;
  const size_t n = len / 128;
  std::vector<U256> in(4 * n);
  if (!decode_felts(env, data, 4 * n, in.data(), "signatures buffer")) return nullptr;
  uint8_t* dst;
  napi_value buf = new_buffer(env, n, &dst);
  if (!buf) return nullptr;
  stark::KeyCache* cache = key_cache(env);
  for (size_t i = 0; i < n; i++)
    dst[i] = stark::ecdsa_verify(cache, in[4 * i], in[4 * i + 1], in[4 * i + 2], in[4 * i + 3]) ? 1 : 0;
  return buf;
}

napi_value EcdsaSign(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  U256 m, d, r, s;
  if (!get_args(env, info, 2, argv) || !read_felt(env, argv[0], m, "ecdsaSign msgHash") ||
      !read_felt(env, argv[1], d, "ecdsaSign privateKey"))
    return nullptr;
  switch (stark::ecdsa_sign(m, d, r, s)) {
    case stark::SIGN_OK:
      break;
    case stark::SIGN_BAD_MESSAGE:
      napi_throw_range_error(env, "ERR_MSG_HASH_RANGE", "ecdsaSign msgHash: must be below 2^251");
      return nullptr;
    case stark::SIGN_BAD_PRIVATE_KEY:
      napi_throw_range_error(env, "ERR_PRIVATE_KEY_RANGE", "ecdsaSign privateKey: must be in [1, curve order)");
      return nullptr;
    case stark::SIGN_OUT_OF_RANGE:
      napi_throw_range_error(env, "ERR_SIGNATURE_RANGE",
                             "ecdsaSign: r or inv(s) is not below 2^251 (Stark signature range)");
      return nullptr;
  }
  napi_value arr;
  CHECK_NAPI(env, napi_create_array_with_length(env, 2, &arr));
  napi_value rv = make_bigint(env, r), sv = make_bigint(env, s);
  if (!rv || !sv) return nullptr;
  napi_set_element(env, arr, 0, rv);
  napi_set_element(env, arr, 1, sv);
  return arr;
}

napi_value PublicKey(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  U256 d, x;
  if (!get_args(env, info, 1, argv) || !read_felt(env, argv[0], d, "publicKey privateKey")) return nullptr;
  if (!stark::public_key(d, x)) {
    napi_throw_range_error(env, "ERR_PRIVATE_KEY_RANGE", "publicKey privateKey: must be in [1, curve order)");
    return nullptr;
  }
  return make_bigint(env, x);
}

// bigint[] -> Buffer of 32-byte big-endian felts (each checked < P).
napi_value FeltsToBuffer(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<U256> v;
  if (!get_args(env, info, 1, argv) || !read_felt_array(env, argv[0], v, "felts")) return nullptr;
  uint8_t* dst;
  napi_value buf = new_buffer(env, 32 * v.size(), &dst);
  if (!buf) return nullptr;
  for (size_t i = 0; i < v.size(); i++) u256_to_be(dst + 32 * i, v[i]);
  return buf;
}

// Buffer of 32-byte big-endian felts -> bigint[] (each checked < P).
// recordFelts(bytes, offset, stride) -> bigint[]: the felts at offset, offset + stride, ...
// (one per whole record of `stride` bytes), each checked < P.
napi_value RecordFelts(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const uint8_t* data;
  size_t len;
  int32_t offset = 0, stride = 0;
  if (!get_args(env, info, 3, argv) || !read_bytes(env, argv[0], data, len, 1, "records buffer")) return nullptr;
  if (napi_get_value_int32(env, argv[1], &offset) != napi_ok || napi_get_value_int32(env, argv[2], &stride) != napi_ok ||
      stride < 32 || offset < 0 || offset > stride - 32) {
    throw_type(env, "recordFelts: expected 0 <= offset <= stride - 32");
    return nullptr;
  }
  std::vector<U256> v(len / (size_t)stride);
  for (size_t i = 0; i < v.size(); i++) {
    if (!decode_felts(env, data + i * (size_t)stride + offset, 1, &v[i], "records buffer")) return nullptr;
  }
  return make_bigint_array(env, v);
}

napi_value BufferToFelts(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const uint8_t* data;
  size_t len;
  if (!get_args(env, info, 1, argv) || !read_bytes(env, argv[0], data, len, 32, "felts buffer")) return nullptr;
  std::vector<U256> v(len / 32);
  if (!decode_felts(env, data, v.size(), v.data(), "felts buffer")) return nullptr;
  return make_bigint_array(env, v);
}

napi_value SetKeyCacheCapacity(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return nullptr;
  int64_t cap = 0;
  if (napi_get_value_int64(env, argv[0], &cap) != napi_ok || cap < 0 || cap > 1000000) {
    napi_throw_range_error(env, "ERR_CACHE_CAPACITY", "setKeyCacheCapacity: expected an integer in [0, 1e6]");
    return nullptr;
  }
  key_cache(env)->set_capacity((size_t)cap);
  return nullptr;
}

napi_value KeyCacheStats(napi_env env, napi_callback_info info) {
  stark::KeyCache* c = key_cache(env);
  napi_value obj, v;
  CHECK_NAPI(env, napi_create_object(env, &obj));
  const struct {
    const char* name;
    double value;
  } fields[] = {{"entries", (double)c->size()}, {"capacity", (double)c->capacity()},
                {"hits", (double)c->hits},      {"misses", (double)c->misses},
                {"builds", (double)c->builds},  {"refused", (double)c->refused}};
  for (const auto& f : fields) {
    napi_create_double(env, f.value, &v);
    napi_set_named_property(env, obj, f.name, v);
  }
  return obj;
}

void finalize_cache(napi_env, void* data, void*) { delete (stark::KeyCache*)data; }

}  // namespace

NAPI_MODULE_INIT() {
  stark::init();
  napi_set_instance_data(env, new stark::KeyCache(DEFAULT_KEY_CACHE_CAPACITY), finalize_cache, nullptr);
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {
      {"pedersen", Pedersen},
      {"poseidon", Poseidon},
      {"poseidonMany", PoseidonMany},
      {"pedersenBatch", PedersenBatch},
      {"poseidonBatch", PoseidonBatch},
      {"pedersenBatchBuffer", PedersenBatchBuffer},
      {"poseidonBatchBuffer", PoseidonBatchBuffer},
      {"hashNodeTable", HashNodeTable},
      {"poseidonProgram", PoseidonProgram},
      {"ecdsaVerify", EcdsaVerify},
      {"ecdsaVerifyBatchBuffer", EcdsaVerifyBatchBuffer},
      {"ecdsaSign", EcdsaSign},
      {"publicKey", PublicKey},
      {"feltsToBuffer", FeltsToBuffer},
      {"bufferToFelts", BufferToFelts},
      {"recordFelts", RecordFelts},
      {"setKeyCacheCapacity", SetKeyCacheCapacity},
      {"keyCacheStats", KeyCacheStats},
  };
  for (const auto& f : fns) {
    napi_value v;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, v) != napi_ok) return nullptr;
  }
  {
    HashThreads* ht = new HashThreads();
    napi_value v;
    if (napi_add_env_cleanup_hook(env, stop_hash_threads, ht) != napi_ok) return nullptr;
    const struct {
      const char* name;
      napi_callback fn;
    } async_fns[] = {
        {"hashNodeTableAsync", HashNodeTableAsync},
        {"poseidonProgramAsync", PoseidonProgramAsync},
        {"ecdsaVerifyBatchAsync", EcdsaVerifyBatchAsync},
        {"poseidonProgramVerifyAsync", PoseidonProgramVerifyAsync},
    };
    for (const auto& f : async_fns) {
      if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, ht, &v) != napi_ok ||
          napi_set_named_property(env, exports, f.name, v) != napi_ok)
        return nullptr;
    }
  }

  return exports;
}
