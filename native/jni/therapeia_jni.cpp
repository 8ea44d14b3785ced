// JNI glue between org.therapeia.engine.NativeEngine and therapeia::Engine: the only file that
// includes jni.h. The function signatures come from org_therapeia_engine_NativeEngine.h, which
// javac -h generates from the Java class, so they cannot drift.
//
// Rules (DESIGN.md section 5): every entry point runs inside guarded(), which turns any C++
// exception into org.therapeia.engine.EngineException (message without the C++ backtrace); no
// exception crosses the JNI boundary. Handles are `therapeia::Engine*` cast to jlong; the Java
// facade serialises calls and never passes a freed handle. C++ never reads Java fields; it creates
// StepEvent objects through their constructor, resolved once in JNI_OnLoad.
#include <jni.h>

#include "org_therapeia_engine_NativeEngine.h"

#include <c10/util/Exception.h>

#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "therapeia/engine.h"
#include "therapeia/error.h"

namespace {

constexpr jint kJniVersion = JNI_VERSION_1_8;

// org.therapeia.engine.EngineException, cached in JNI_OnLoad (a global ref: valid on every thread).
jclass g_engine_exception = nullptr;
// org.therapeia.engine.StepEvent and its canonical constructor (long, int, boolean, String, int).
jclass g_step_event = nullptr;
jmethodID g_step_event_init = nullptr;

// Thrown inside an entry point when a Java exception is already pending (e.g. an
// OutOfMemoryError from NewLongArray): guarded() then returns without raising another.
struct JavaExceptionPending {};

void throw_engine_exception(JNIEnv* env, const char* message) {
  if (env->ExceptionCheck()) return;  // keep the first exception
  jclass type = g_engine_exception;
  if (type == nullptr) type = env->FindClass("java/lang/RuntimeException");
  if (type != nullptr) env->ThrowNew(type, message);
}

// Runs `body`, converting every C++ exception into a pending EngineException; returns `fallback`
// in that case (Java ignores the return value of a call that threw).
template <class R, class F>
R guarded(JNIEnv* env, R fallback, F&& body) noexcept {
  try {
    return std::forward<F>(body)();
  } catch (const JavaExceptionPending&) {
  } catch (const therapeia::Error& e) {
    throw_engine_exception(env, e.what());
  } catch (const c10::Error& e) {
    throw_engine_exception(env, e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw_engine_exception(env, "out of native memory");
  } catch (const std::exception& e) {
    throw_engine_exception(env, e.what());
  } catch (...) {
    throw_engine_exception(env, "unknown native error");
  }
  return fallback;
}

therapeia::Engine& engine_of(jlong handle) {
  if (handle == 0) throw therapeia::Error("engine is closed");
  return *reinterpret_cast<therapeia::Engine*>(handle);
}

std::string to_string(JNIEnv* env, jstring value, const char* name) {
  if (value == nullptr) throw therapeia::Error(std::string(name) + " must not be null");
  const char* chars = env->GetStringUTFChars(value, nullptr);
  if (chars == nullptr) throw JavaExceptionPending{};
  std::string result(chars);
  env->ReleaseStringUTFChars(value, chars);
  return result;
}

std::vector<int64_t> to_ids(JNIEnv* env, jintArray array, const char* name) {
  if (array == nullptr) throw therapeia::Error(std::string(name) + " must not be null");
  const jsize length = env->GetArrayLength(array);
  std::vector<jint> ints(static_cast<size_t>(length));
  if (length > 0) env->GetIntArrayRegion(array, 0, length, ints.data());
  if (env->ExceptionCheck()) throw JavaExceptionPending{};
  return std::vector<int64_t>(ints.begin(), ints.end());
}

jsize java_length(size_t n, const char* what) {
  if (n > static_cast<size_t>(std::numeric_limits<jsize>::max())) {
    throw therapeia::Error(std::string(what) + " of " + std::to_string(n) + " values does not fit in a Java array");
  }
  return static_cast<jsize>(n);
}

// A new local reference, or JavaExceptionPending when the JVM could not create it.
template <class T>
T checked(T reference) {
  if (reference == nullptr) throw JavaExceptionPending{};
  return reference;
}

// The step's events as StepEvent[]. Local references are freed as the loop goes, so that a large
// batch never fills the JVM's local reference table.
jobjectArray to_java(JNIEnv* env, const std::vector<therapeia::StepEvent>& events) {
  const jsize length = java_length(events.size(), "step");
  jobjectArray array = checked(env->NewObjectArray(length, g_step_event, nullptr));
  for (jsize i = 0; i < length; ++i) {
    const therapeia::StepEvent& event = events[static_cast<size_t>(i)];
    jstring failure = event.failure.empty() ? nullptr : checked(env->NewStringUTF(event.failure.c_str()));
    jobject item = checked(env->NewObject(g_step_event, g_step_event_init, static_cast<jlong>(event.sequence_id),
                                          static_cast<jint>(event.token), event.finished ? JNI_TRUE : JNI_FALSE,
                                          failure, static_cast<jint>(event.prompt_tokens_reused)));
    env->SetObjectArrayElement(array, i, item);
    env->DeleteLocalRef(item);
    if (failure != nullptr) env->DeleteLocalRef(failure);
  }
  return array;
}

jlongArray to_java(JNIEnv* env, const std::vector<jlong>& values) {
  const jsize length = java_length(values.size(), "result");
  jlongArray array = env->NewLongArray(length);
  if (array == nullptr) throw JavaExceptionPending{};
  if (length > 0) env->SetLongArrayRegion(array, 0, length, values.data());
  return array;
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void* /*reserved*/) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), kJniVersion) != JNI_OK) return JNI_ERR;
  // Resolved with the class loader of the class that called System.load (NativeLibrary), which
  // also holds EngineException.
  jclass local = env->FindClass("org/therapeia/engine/EngineException");
  if (local == nullptr) return JNI_ERR;  // NoClassDefFoundError stays pending
  g_engine_exception = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  if (g_engine_exception == nullptr) return JNI_ERR;
  local = env->FindClass("org/therapeia/engine/StepEvent");
  if (local == nullptr) return JNI_ERR;
  g_step_event = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  if (g_step_event == nullptr) return JNI_ERR;
  g_step_event_init = env->GetMethodID(g_step_event, "<init>", "(JIZLjava/lang/String;I)V");
  return g_step_event_init == nullptr ? JNI_ERR : kJniVersion;  // NoSuchMethodError stays pending
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM* vm, void* /*reserved*/) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), kJniVersion) != JNI_OK) return;
  if (g_engine_exception != nullptr) {
    env->DeleteGlobalRef(g_engine_exception);
    g_engine_exception = nullptr;
  }
  if (g_step_event != nullptr) {
    env->DeleteGlobalRef(g_step_event);
    g_step_event = nullptr;
    g_step_event_init = nullptr;
  }
}

JNIEXPORT jlong JNICALL Java_org_therapeia_engine_NativeEngine_create(JNIEnv* env, jclass, jstring model_dir,
                                                                      jstring dtype, jstring device, jint max_slots,
                                                                      jint max_context, jint threads,
                                                                      jboolean prefix_cache) {
  return guarded(env, jlong{0}, [&]() -> jlong {
    if (max_context < 0) throw therapeia::Error("maxContext must be >= 0, got " + std::to_string(max_context));
    if (threads < 0) throw therapeia::Error("threads must be >= 0, got " + std::to_string(threads));
    therapeia::EngineOptions options;
    options.model_dir = to_string(env, model_dir, "modelDir");
    options.dtype = to_string(env, dtype, "dtype");
    options.device = to_string(env, device, "device");
    options.max_slots = max_slots;
    options.max_context = max_context;
    options.threads = threads;
    options.prefix_cache = prefix_cache == JNI_TRUE;
    return reinterpret_cast<jlong>(new therapeia::Engine(options));
  });
}

JNIEXPORT void JNICALL Java_org_therapeia_engine_NativeEngine_destroy(JNIEnv* env, jclass, jlong handle) {
  guarded(env, 0, [&] {
    delete reinterpret_cast<therapeia::Engine*>(handle);
    return 0;
  });
}

JNIEXPORT jlong JNICALL Java_org_therapeia_engine_NativeEngine_add(JNIEnv* env, jclass, jlong handle,
                                                                   jintArray prompt_ids, jint max_new_tokens,
                                                                   jdouble temperature, jint top_k, jdouble top_p,
                                                                   jdouble repetition_penalty,
                                                                   jdouble frequency_penalty,
                                                                   jdouble presence_penalty, jlong seed,
                                                                   jlong reuse_scope) {
  return guarded(env, jlong{-1}, [&]() -> jlong {
    therapeia::Engine& engine = engine_of(handle);
    std::vector<int64_t> prompt = to_ids(env, prompt_ids, "promptIds");
    therapeia::SamplingParams params;
    params.max_new_tokens = max_new_tokens;
    params.temperature = temperature;
    params.top_k = top_k;
    params.top_p = top_p;
    params.repetition_penalty = repetition_penalty;
    params.frequency_penalty = frequency_penalty;
    params.presence_penalty = presence_penalty;
    params.seed = static_cast<uint64_t>(seed);
    return static_cast<jlong>(engine.add(prompt, params, reuse_scope));
  });
}

JNIEXPORT jobjectArray JNICALL Java_org_therapeia_engine_NativeEngine_step(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, static_cast<jobjectArray>(nullptr), [&] { return to_java(env, engine_of(handle).step()); });
}

JNIEXPORT void JNICALL Java_org_therapeia_engine_NativeEngine_cancel(JNIEnv* env, jclass, jlong handle,
                                                                     jlong sequence_id) {
  guarded(env, 0, [&] {
    engine_of(handle).cancel(sequence_id);
    return 0;
  });
}

JNIEXPORT jlongArray JNICALL Java_org_therapeia_engine_NativeEngine_stats(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, static_cast<jlongArray>(nullptr), [&] {
    const therapeia::EngineStats s = engine_of(handle).stats();
    // The order of the components of org.therapeia.engine.EngineStats.
    return to_java(env, {s.waiting, s.running, s.free_slots, s.total_slots, s.max_context, s.vocab_size, s.steps,
                         s.last_batch_size, s.tokens_generated, s.warm_slots, s.warm_tokens, s.prompt_tokens_reused,
                         s.prompt_tokens_computed});
  });
}

JNIEXPORT jfloatArray JNICALL Java_org_therapeia_engine_NativeEngine_logits(JNIEnv* env, jclass, jlong handle,
                                                                            jintArray ids) {
  return guarded(env, static_cast<jfloatArray>(nullptr), [&] {
    therapeia::Engine& engine = engine_of(handle);
    const std::vector<int64_t> tokens = to_ids(env, ids, "ids");
    const at::Tensor logits = engine.logits(tokens).to(at::kCPU, at::kFloat).contiguous();  // [T, V]
    const jsize length = java_length(static_cast<size_t>(logits.numel()), "logits");
    jfloatArray array = env->NewFloatArray(length);
    if (array == nullptr) throw JavaExceptionPending{};
    if (length > 0) env->SetFloatArrayRegion(array, 0, length, logits.data_ptr<float>());
    return array;
  });
}

JNIEXPORT jintArray JNICALL Java_org_therapeia_engine_NativeEngine_eosTokenIds(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, static_cast<jintArray>(nullptr), [&] {
    const std::vector<int64_t>& ids = engine_of(handle).config().eos_token_ids;
    std::vector<jint> values(ids.begin(), ids.end());
    const jsize length = java_length(values.size(), "eos_token_ids");
    jintArray array = env->NewIntArray(length);
    if (array == nullptr) throw JavaExceptionPending{};
    if (length > 0) env->SetIntArrayRegion(array, 0, length, values.data());
    return array;
  });
}

JNIEXPORT jstring JNICALL Java_org_therapeia_engine_NativeEngine_architecture(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, static_cast<jstring>(nullptr), [&] {
    jstring name = env->NewStringUTF(engine_of(handle).config().architecture.c_str());
    if (name == nullptr) throw JavaExceptionPending{};
    return name;
  });
}

}  // extern "C"
