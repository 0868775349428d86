"""Made-up people for the demo: names, birth dates, addresses, phones, languages, contacts.

Pure Python and seeded: the same ``random.Random`` state gives the same people.
Names come in community pools so that preferred language follows the name, as
it would in a real catchment area (central Ohio here). Phone numbers use the
555-01xx range reserved for fiction, so no real number is ever printed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Pool:
    weight: float
    family: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    # (language, weight); "English" means no interpreter.
    languages: tuple[tuple[str, float], ...]


# fmt: off
_US_FAMILY = (
    # The most common US surnames come first and repeat, so that searches like "Smi" or "Joh" find many rows.
    "Smith", "Smith", "Smith", "Johnson", "Johnson", "Williams", "Williams", "Brown", "Brown", "Jones", "Jones",
    "Miller", "Davis", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Hill", "Green", "Adams", "Nelson", "Baker", "Hall", "Campbell", "Mitchell", "Carter", "Roberts", "Phillips",
    "Evans", "Turner", "Parker", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan",
    "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Wood", "James", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross", "Foster",
    "Sullivan", "O'Brien", "McCarthy", "Schmidt", "Mueller", "Kowalski", "Nowak", "Rossi", "Russo", "Cohen",
    "Goldberg", "Washington", "Jefferson", "Coleman", "Jenkins", "Perry", "Powell", "Patterson", "Simmons",
    "Smithson", "Johnston", "Wilkins", "Hoffman", "Snyder", "Yoder", "Stoltzfus", "Hershberger",
)
_US_FEMALE = (
    "Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Susan", "Margaret", "Dorothy", "Karen",
    "Nancy", "Betty", "Helen", "Sandra", "Donna", "Carol", "Ruth", "Sharon", "Michelle", "Laura", "Sarah",
    "Kimberly", "Deborah", "Jessica", "Shirley", "Cynthia", "Angela", "Melissa", "Brenda", "Amy", "Anna",
    "Rebecca", "Virginia", "Kathleen", "Pamela", "Martha", "Debra", "Amanda", "Stephanie", "Carolyn", "Christine",
    "Marie", "Janet", "Catherine", "Frances", "Ann", "Joyce", "Diane", "Alice", "Julie", "Heather", "Teresa",
    "Doris", "Gloria", "Evelyn", "Jean", "Cheryl", "Mildred", "Katherine", "Joan", "Ashley", "Judith", "Rose",
    "Janice", "Kelly", "Nicole", "Judy", "Christina", "Kathy", "Theresa", "Beverly", "Denise", "Tammy", "Irene",
    "Jane", "Lori", "Rachel", "Marilyn", "Andrea", "Kathryn", "Louise", "Sara", "Anne", "Jacqueline", "Wanda",
    "Bonnie", "Julia", "Ruby", "Lois", "Tina", "Phyllis", "Norma", "Paula", "Diana", "Annie", "Lillian",
    "Emily", "Robin", "Peggy", "Crystal", "Gladys", "Rita", "Dawn", "Connie", "Florence", "Tracy", "Edna",
)
_US_MALE = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Charles", "Joseph", "Thomas",
    "Christopher", "Daniel", "Paul", "Mark", "Donald", "George", "Kenneth", "Steven", "Edward", "Brian", "Ronald",
    "Anthony", "Kevin", "Jason", "Matthew", "Gary", "Timothy", "Larry", "Jeffrey", "Frank", "Scott", "Eric",
    "Stephen", "Andrew", "Raymond", "Gregory", "Joshua", "Jerry", "Dennis", "Walter", "Patrick", "Peter",
    "Harold", "Douglas", "Henry", "Carl", "Arthur", "Ryan", "Roger", "Joe", "Albert", "Jonathan", "Justin",
    "Terry", "Gerald", "Keith", "Samuel", "Willie", "Ralph", "Lawrence", "Nicholas", "Roy", "Benjamin", "Bruce",
    "Brandon", "Adam", "Harry", "Fred", "Wayne", "Billy", "Steve", "Louis", "Jeremy", "Aaron", "Randy", "Howard",
    "Eugene", "Carlos", "Russell", "Bobby", "Victor", "Martin", "Ernest", "Phillip", "Todd", "Jesse", "Craig",
    "Alan", "Shawn", "Clarence", "Sean", "Philip", "Chris", "Johnny", "Earl", "Jimmy", "Antonio", "Danny",
    "Bryan", "Tony", "Luis", "Mike", "Stanley", "Leonard", "Nathan", "Dale", "Manuel", "Rodney", "Curtis",
)

POOLS: tuple[Pool, ...] = (
    Pool(0.62, _US_FAMILY, _US_FEMALE, _US_MALE, (("English", 1.0),)),
    Pool(
        0.14,
        (
            "Garcia", "Garcia", "Rodriguez", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez",
            "Sanchez", "Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Cruz", "Reyes", "Morales",
            "Gutierrez", "Ortiz", "Ramos", "Chavez", "Mendoza", "Ruiz", "Alvarez", "Castillo", "Jimenez", "Vasquez",
            "Romero", "Herrera", "Medina", "Aguilar", "Vargas", "Guzman", "Salazar", "Delgado", "Soto",
        ),
        (
            "Maria", "Guadalupe", "Rosa", "Carmen", "Ana", "Juana", "Teresa", "Luz", "Elena", "Patricia", "Sofia",
            "Isabel", "Gabriela", "Adriana", "Veronica", "Lucia", "Alejandra", "Marisol", "Yolanda", "Esperanza",
        ),
        (
            "Jose", "Juan", "Luis", "Carlos", "Jesus", "Miguel", "Francisco", "Antonio", "Pedro", "Manuel",
            "Alejandro", "Ricardo", "Rafael", "Javier", "Fernando", "Roberto", "Eduardo", "Raul", "Sergio", "Jorge",
        ),
        (("Spanish", 0.55), ("English", 0.45)),
    ),
    Pool(
        0.04,
        ("Nguyen", "Nguyen", "Nguyen", "Tran", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do"),
        ("Lan", "Hoa", "Mai", "Linh", "Thu", "Huong", "Ngoc", "Trang", "Hanh", "Phuong"),
        ("Minh", "Tuan", "Duc", "Hung", "Thanh", "Quang", "Long", "Khoa", "Nam", "Bao"),
        (("Vietnamese", 0.6), ("English", 0.4)),
    ),
    Pool(
        0.04,
        ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Lin", "Zhou", "Wu", "Yang", "Kim", "Park", "Choi"),
        ("Mei", "Hui", "Xiu", "Yan", "Li Na", "Jing", "Fang", "Min-ji", "Soo-ah", "Ying"),
        ("Wei", "Jun", "Ming", "Jian", "Lei", "Hao", "Tao", "Jae-won", "Sung-ho", "Bo"),
        (("Mandarin", 0.4), ("Cantonese", 0.1), ("Korean", 0.1), ("English", 0.4)),
    ),
    Pool(
        0.04,
        ("Patel", "Patel", "Shah", "Singh", "Kumar", "Desai", "Gupta", "Sharma", "Reddy", "Mehta"),
        ("Priya", "Anjali", "Sunita", "Kavita", "Neha", "Pooja", "Asha", "Meera", "Lakshmi", "Gita"),
        ("Raj", "Arjun", "Vikram", "Sanjay", "Amit", "Ravi", "Suresh", "Deepak", "Harpreet", "Nikhil"),
        (("English", 0.6), ("Gujarati", 0.15), ("Hindi", 0.15), ("Punjabi", 0.1)),
    ),
    Pool(
        0.04,
        ("Hassan", "Ali", "Mohamed", "Abdi", "Warsame", "Farah", "Haddad", "Nasser", "Yusuf", "Osman", "Ahmed"),
        ("Fatima", "Amina", "Hodan", "Layla", "Asha", "Safiya", "Khadija", "Maryam", "Nadia", "Halima"),
        ("Ahmed", "Omar", "Yusuf", "Khalid", "Abdullahi", "Hamza", "Ibrahim", "Mustafa", "Hassan", "Bashir"),
        (("Somali", 0.45), ("Arabic", 0.25), ("English", 0.3)),
    ),
    Pool(
        0.03,
        ("Pierre", "Jean-Baptiste", "Joseph", "Louis", "Charles", "Etienne", "Desir", "Francois", "Augustin"),
        ("Marie", "Rose", "Guerline", "Nadege", "Fabienne", "Widline", "Mirlande", "Josette"),
        ("Jean", "Jacques", "Wilner", "Frantz", "Ricardo", "Pierre", "Emmanuel", "Fritz"),
        (("Haitian Creole", 0.6), ("French", 0.1), ("English", 0.3)),
    ),
    Pool(
        0.03,
        ("Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Boyko", "Moroz", "Lysenko"),
        ("Olena", "Iryna", "Natalia", "Svetlana", "Tetiana", "Lyudmila", "Galina", "Oksana"),
        ("Dmitri", "Sergei", "Andriy", "Mykola", "Oleksandr", "Viktor", "Yuri", "Pavel"),
        (("Russian", 0.4), ("Ukrainian", 0.3), ("English", 0.3)),
    ),
    Pool(
        0.02,
        ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Ferreira", "Almeida"),
        ("Ana", "Mariana", "Luiza", "Beatriz", "Camila", "Fernanda"),
        ("Joao", "Pedro", "Rafael", "Lucas", "Thiago", "Bruno"),
        (("Portuguese", 0.5), ("English", 0.5)),
    ),
)
# fmt: on
_POOL_WEIGHTS = [p.weight for p in POOLS]

# Central Ohio: (city, ZIP codes). Real ZIP codes; made-up street addresses.
# fmt: off
CITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Columbus", ("43201", "43202", "43203", "43204", "43205", "43206", "43207", "43209", "43211", "43212",
                  "43213", "43214", "43215", "43219", "43220", "43221", "43223", "43224", "43227", "43229")),
    ("Westerville", ("43081", "43082")),
    ("Dublin", ("43016", "43017")),
    ("Hilliard", ("43026",)),
    ("Grove City", ("43123",)),
    ("Reynoldsburg", ("43068",)),
    ("Gahanna", ("43230",)),
    ("Worthington", ("43085",)),
    ("Pickerington", ("43147",)),
    ("Delaware", ("43015",)),
    ("Lancaster", ("43130",)),
    ("Newark", ("43055",)),
)
# fmt: on
_CITY_WEIGHTS = [len(zips) for _, zips in CITIES]
ALL_ZIPS: tuple[str, ...] = tuple(sorted(z for _, zips in CITIES for z in zips))

# fmt: off
STREETS = (
    "Oak", "Maple", "Elm", "High", "Broad", "Main", "Cleveland", "Livingston", "Parsons", "Morse", "Karl",
    "Sunbury", "Hamilton", "Refugee", "Sawmill", "Riverside", "Olentangy River", "Indianola", "Summit", "Neil",
    "Fifth", "King", "Lane", "Kenny", "Henderson", "Bethel", "Schrock", "Cooper", "Walnut", "Chestnut",
    "Hickory", "Sycamore", "Birch", "Cherry", "Willow", "Meadow", "Brookside", "Lakeview", "Hillcrest", "Park",
)
STREET_KINDS = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl")
# fmt: on

GOALS_IN_OWN_WORDS = (
    "I want to go home to my own house and my cat.",
    "Walk to the mailbox by myself again.",
    "Stay out of the hospital this winter.",
    "Be strong enough to babysit my grandkids.",
    "Keep my sugar under control so I keep my feet.",
    "Get back to church on Sundays.",
    "Understand all these new pills.",
    "Not be a burden on my daughter.",
    "Breathe easier when I climb the stairs.",
    "Go back to work part time.",
    "Cook my own meals again.",
    "Stay in my apartment as long as I can.",
    "",
    "",
)

AVAILABILITY = (
    "Evenings and weekends",
    "Weekdays after 3 pm",
    "Lives in; available most of the day",
    "Weekends only",
    "Mornings before work",
    "Any time by phone",
)


@dataclass(frozen=True)
class Person:
    family_name: str
    given_name: str
    sex: str
    birth_date: dt.date
    age: int
    language: str
    pool: Pool


def fake_phone(rng: random.Random, area: str = "614") -> str:
    return f"({area}) 555-01{rng.randrange(100):02d}"


def fake_address(rng: random.Random) -> dict[str, str]:
    city, zips = rng.choices(CITIES, weights=_CITY_WEIGHTS)[0]
    street = f"{rng.randrange(10, 9900)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
    if rng.random() < 0.12:
        street += f" Apt {rng.randrange(1, 40)}"
    return {"address_line": street, "city": city, "state": "OH", "postal_code": rng.choice(zips)}


def patient_age(rng: random.Random) -> int:
    """Ages of a case-managed population: mostly older adults, a working-age minority."""
    band = rng.random()
    if band < 0.18:
        return rng.randrange(19, 50)
    if band < 0.40:
        return rng.randrange(50, 65)
    if band < 0.80:
        return rng.randrange(65, 85)
    return rng.randrange(85, 99)


def make_person(rng: random.Random, *, reference: dt.date, age: int | None = None) -> Person:
    """A person aged ``age`` on ``reference`` (a fixed date, so birth dates do not move from day to day)."""
    pool = rng.choices(POOLS, weights=_POOL_WEIGHTS)[0]
    sex = "female" if rng.random() < 0.54 else "male"
    given = rng.choice(pool.female if sex == "female" else pool.male)
    family = rng.choice(pool.family)
    age = patient_age(rng) if age is None else age
    birth_date = reference - dt.timedelta(days=age * 365 + rng.randrange(365))
    languages, weights = zip(*pool.languages, strict=True)
    language = rng.choices(languages, weights=weights)[0]
    return Person(family, given, sex, birth_date, age, language, pool)


def staff_name(rng: random.Random) -> tuple[str, str]:
    pool = rng.choices(POOLS, weights=_POOL_WEIGHTS)[0]
    given = rng.choice(pool.female if rng.random() < 0.8 else pool.male)  # case management is mostly women
    return given, rng.choice(pool.family)


def relative_name(rng: random.Random, person: Person, *, same_family: bool) -> str:
    given = rng.choice(person.pool.female + person.pool.male)
    family = person.family_name if same_family else rng.choice(person.pool.family)
    return f"{given} {family}"
