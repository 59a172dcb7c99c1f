"""Structured output in LangChain: `with_structured_output` turns text into a pydantic object."""

from _offline import modelslab
from pydantic import BaseModel, Field

from langchain_modelslab import ChatModelsLab


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="the person's name")
    age: int = Field(description="age in years")


def main() -> None:
    llm = ChatModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together")
    extract = llm.with_structured_output(Person)  # a forced tool call, parsed into Person
    person = extract.invoke('The person is called "Ada" and is 36 years old.')
    print(repr(person))
    print(f"name={person.name} age={person.age}")


if __name__ == "__main__":
    with modelslab():
        main()
