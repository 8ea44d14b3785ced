package org.therapeia.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a model folder's generation_config.json contributes to the OpenAI API's defaults. */
class ModelSamplingDefaultsTest {

    @TempDir
    Path model;

    private ModelSamplingDefaults load(String json) throws IOException {
        Files.writeString(model.resolve(ModelSamplingDefaults.GENERATION_CONFIG_JSON), json);
        return ModelSamplingDefaults.load(model);
    }

    @Test
    void readsTheFourSamplingFields() throws IOException {
        assertEquals(new ModelSamplingDefaults(0.6, 0.95, 20, 1.05), load("{\"bos_token_id\": 1, "
                + "\"do_sample\": true, \"eos_token_id\": [2, 3], \"temperature\": 0.6, \"top_p\": 0.95, "
                + "\"top_k\": 20, \"repetition_penalty\": 1.05, \"max_new_tokens\": 512, "
                + "\"transformers_version\": \"5.17.0\"}"));
    }

    @Test
    void whatTheFileLeavesOutIsNull() throws IOException {
        assertEquals(new ModelSamplingDefaults(0.0, null, null, null), load("{\"temperature\": 0, \"top_p\": null}"));
        assertEquals(ModelSamplingDefaults.NONE, load("{\"eos_token_id\": 2}"));
        Files.delete(model.resolve(ModelSamplingDefaults.GENERATION_CONFIG_JSON));
        assertEquals(ModelSamplingDefaults.NONE, ModelSamplingDefaults.load(model), "no file");
    }

    @Test
    void doSampleIsNotReadAsVllmDoesNot() throws IOException {
        assertEquals(0.7, load("{\"do_sample\": false, \"temperature\": 0.7}").temperature());
    }

    @Test
    void aValueARequestCouldNotAskForIsLeftOut() throws IOException {
        assertEquals(ModelSamplingDefaults.NONE, load("{\"temperature\": 0.001, \"top_p\": 0, \"top_k\": -1, "
                + "\"repetition_penalty\": 0}"));
        assertEquals(ModelSamplingDefaults.NONE, load("{\"temperature\": \"0.7\", \"top_p\": [1], \"top_k\": 2.5, "
                + "\"repetition_penalty\": true}"), "not numbers, or top_k not an integer");
        assertEquals(new ModelSamplingDefaults(5.0, 1.0, 0, 10.0), load("{\"temperature\": 5, \"top_p\": 1, "
                + "\"top_k\": 0, \"repetition_penalty\": 10}"), "the bounds themselves are accepted");
    }

    @Test
    void aFileThatIsNotJsonNamesItself() throws IOException {
        TokenizerException e = assertThrows(TokenizerException.class, () -> load("{\"temperature\": "));
        assertEquals(true, e.getMessage().contains(ModelSamplingDefaults.GENERATION_CONFIG_JSON), e.getMessage());
    }

    @Test
    void eachFallsBackAlone() {
        ModelSamplingDefaults onlyTopP = new ModelSamplingDefaults(null, 0.8, null, null);
        assertEquals(0.7, onlyTopP.temperature(0.7));
        assertEquals(0.8, onlyTopP.topP(0.9));
        assertEquals(50, onlyTopP.topK(50));
        assertEquals(1.1, onlyTopP.repetitionPenalty(1.1));
    }
}
