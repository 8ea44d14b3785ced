package org.therapeia.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OpenApiYamlFilterTest {

    /** Which Accept headers turn into a YAML reply labelled with which type (NONE: passed on unchanged). */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NONE", value = {
        "application/yaml|application/yaml",
        "Application/YAML|application/yaml",
        "text/yaml|text/yaml",
        "application/x-yaml|application/x-yaml",
        "text/x-yaml|text/x-yaml",
        "application/yaml; charset=utf-8|application/yaml",
        "application/yaml, application/json|application/yaml",
        "application/json, application/yaml|application/yaml",
        "application/yaml, application/json;q=0.5|application/yaml",
        "application/yaml;q=0.5, application/json|NONE",
        "application/json;q=0.9, text/yaml;q=0.2, application/yaml;q=0.95|application/yaml",
        "application/yaml;q=0|NONE",
        "application/yaml;q=zero|NONE",
        "application/json|NONE",
        "text/plain|NONE",
        "*/*|NONE",
        "application/*|NONE",
        "''|NONE",
        "NONE|NONE",
    })
    void yamlWhenTheClientPrefersIt(String accept, String expected) {
        assertEquals(expected, OpenApiYamlFilter.preferredYaml(accept));
    }
}
