"""Word material for the benchmark corpus: names, places, topics and sentence templates.

Plain data, no randomness and no I/O: `corpus.py` draws from these lists with a seeded RNG so a
given (N, seed) always produces the same articles. Never edit a list casually: it changes every
generated corpus (which is fine, but makes old results incomparable).
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Amara Ben Carla Daniel Elena Farid Grace Hiro Ines Jonas Kemi Liam Maya Nikolai Olga Pablo "
    "Quinn Rosa Samir Tara Ugo Vera Wei Ximena Yusuf Zara Ahmed Beatriz Chen Dmitri Esther Femi "
    "Gabriel Hana Ivan Julia Kofi Laura Mateo Nadia Omar Priya Rafael Sofia Tomas Ulla Victor "
    "Wanjiru Yara Anders Bianca Diego Eun-ji Fatima Hassan Ingrid Jamal Katarzyna Lucas Mei"
)
LAST_NAMES = _words(
    "Abara Bauer Castillo Dubois Eriksen Fischer Garcia Haddad Ibrahim Jensen Kowalski Lindqvist "
    "Mensah Nakamura Okafor Petrov Quintero Rossi Schmidt Tanaka Usman Varga Weber Xu Yilmaz "
    "Zhang Alvarez Brennan Costa Demir Edwards Fontaine Gupta Hughes Iversen Jovanovic Kaur Lopez "
    "Morales Novak Oduya Park Reyes Santos Takahashi Umarov Vasquez Walsh Yamamoto Zielinski "
    "Anand Barros Chowdhury Delgado Ferreira Kim Moreau Nguyen O'Connor Silva"
)

TOPICS = (
    "Elections", "Climate change", "Inflation", "Interest rates", "Trade", "Energy", "Oil",
    "Natural gas", "Renewable energy", "Housing", "Health care", "Public health", "Vaccines",
    "Education", "Immigration", "Refugees", "Human rights", "Courts", "Supreme Court", "Crime",
    "Police", "Terrorism", "Cybersecurity", "Artificial intelligence", "Semiconductors",
    "Space exploration", "Football", "Tennis", "Cricket", "Olympics", "Formula One", "Basketball",
    "Athletics", "Cycling", "Rugby", "Golf", "Stock markets", "Banking", "Cryptocurrency",
    "Startups", "Labour unions", "Strikes", "Wages", "Unemployment", "Agriculture", "Drought",
    "Floods", "Wildfires", "Earthquakes", "Hurricanes", "Biodiversity", "Oceans", "Air pollution",
    "Transport", "Aviation", "Railways", "Shipping", "Tourism", "Diplomacy", "Sanctions", "Defence",
    "Nuclear weapons", "Peace talks", "Ceasefire", "Protests", "Corruption", "Taxes", "Budget",
    "Pensions", "Central banks", "Currency", "Mergers", "Retail", "Automotive industry",
    "Electric vehicles", "Telecoms", "Media", "Social media", "Privacy", "Genetics",
    "Cancer research", "Mental health", "Archaeology", "Astronomy", "Physics", "Universities",
    "Museums", "Film", "Music", "Literature", "Fashion", "Food security", "Water", "Mining", "Steel",
    "Pharmaceuticals", "Insurance", "Real estate", "Local government", "Referendums", "Coalitions",
)
COUNTRIES = (
    "Algeria", "Argentina", "Australia", "Austria", "Bangladesh", "Belgium", "Bolivia", "Brazil",
    "Bulgaria", "Cambodia", "Cameroon", "Canada", "Chile", "China", "Colombia", "Croatia", "Cuba",
    "Czech Republic", "Denmark", "Ecuador", "Egypt", "Estonia", "Ethiopia", "Finland", "France",
    "Georgia", "Germany", "Ghana", "Greece", "Guatemala", "Hungary", "Iceland", "India",
    "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Jamaica", "Japan", "Jordan",
    "Kazakhstan", "Kenya", "Kuwait", "Latvia", "Lebanon", "Libya", "Lithuania", "Malaysia", "Mali",
    "Mexico", "Mongolia", "Morocco", "Mozambique", "Myanmar", "Nepal", "Netherlands",
    "New Zealand", "Niger", "Nigeria", "Norway", "Pakistan", "Panama", "Paraguay", "Peru",
    "Philippines", "Poland", "Portugal", "Qatar", "Romania", "Russia", "Rwanda", "Saudi Arabia",
    "Senegal", "Serbia", "Singapore", "Slovakia", "Slovenia", "Somalia", "South Africa",
    "South Korea", "Spain", "Sri Lanka", "Sudan", "Sweden", "Switzerland", "Syria", "Taiwan",
    "Tanzania", "Thailand", "Tunisia", "Turkey", "Uganda", "Ukraine", "United Kingdom",
    "United States", "Uruguay", "Venezuela", "Vietnam",
)
CITIES = (
    "Nairobi", "Lagos", "Cairo", "Johannesburg", "Accra", "Paris", "Berlin", "Madrid", "Rome",
    "Warsaw", "Brussels", "Geneva", "London", "Dublin", "Stockholm", "Oslo", "Athens", "Istanbul",
    "Moscow", "Kyiv", "Beirut", "Baghdad", "Tehran", "Riyadh", "Dubai", "Mumbai", "Delhi",
    "Karachi", "Dhaka", "Bangkok", "Jakarta", "Manila", "Beijing", "Shanghai", "Tokyo", "Seoul",
    "Sydney", "Auckland", "Toronto", "Washington", "New York", "Chicago", "Los Angeles",
    "Mexico City", "Bogota", "Lima", "Santiago", "Buenos Aires", "Sao Paulo", "Havana",
)
ORGANIZATIONS = (
    "United Nations", "NATO", "European Union", "World Bank", "International Monetary Fund",
    "World Health Organization", "OPEC", "African Union", "ASEAN", "G20", "World Trade Organization",
    "Red Cross", "UNICEF", "European Central Bank", "Federal Reserve", "Bank of England", "FIFA",
    "International Olympic Committee", "UEFA", "NASA", "European Space Agency",
    "Amnesty International", "Greenpeace", "Interpol", "OECD", "Mercosur", "Arab League",
    "Commonwealth", "International Criminal Court", "UNESCO", "UNHCR", "World Food Programme",
    "International Energy Agency", "Bank of Japan", "Reserve Bank of India",
    "Doctors Without Borders", "Human Rights Watch", "CERN", "Security Council", "Paris Club",
    "Council of Europe", "Nordic Council", "Pacific Islands Forum", "Andean Community",
    "Caribbean Community", "Gulf Cooperation Council", "Shanghai Cooperation Organisation", "BRICS",
    "African Development Bank", "Asian Development Bank", "Inter-American Development Bank",
    "World Meteorological Organization",
)

ROLES = (
    "Prime Minister", "Foreign Minister", "Finance Minister", "Health Minister", "President",
    "opposition leader", "government spokeswoman", "government spokesman", "senior analyst",
    "chief executive", "central bank governor", "head coach", "team captain", "lead researcher",
    "professor of economics", "union leader", "police chief", "mayor", "senior diplomat",
    "military spokesman", "aid worker", "local resident", "shop owner", "trade negotiator",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Section-flavoured verb phrases and subjects keep headlines and sentences plausible per section.
ACTIONS = {
    "world": ("agreed to a ceasefire", "withdrew its ambassador", "deployed additional troops",
              "opened talks on a border dispute", "condemned the attack", "evacuated civilians",
              "closed its airspace", "released detained journalists", "signed a security pact"),
    "politics": ("called an early election", "lost a confidence vote", "unveiled a new budget",
                 "formed a coalition government", "reshuffled the cabinet", "passed the bill",
                 "launched an inquiry", "rejected the proposal", "promised tax cuts"),
    "business": ("raised interest rates", "reported a record quarterly profit", "cut jobs",
                 "announced a merger", "lowered its growth forecast", "issued new bonds",
                 "raised prices", "opened a new factory", "missed earnings expectations"),
    "science": ("launched a new satellite", "published a landmark study", "sequenced the genome",
                "tested a new vaccine", "detected a distant signal", "built a faster chip",
                "mapped the ocean floor", "recorded the warmest month", "unveiled a new model"),
    "sport": ("won the championship", "sacked the head coach", "broke the world record",
              "reached the final", "signed a new striker", "was knocked out in the semi-finals",
              "secured a late equaliser", "announced retirement", "qualified for the Olympics"),
    "news": ("reopened the main bridge", "confirmed the first cases", "cleared the backlog",
             "warned of heavy rain", "expanded the night bus service", "restored power supplies",
             "announced new school hours", "opened a public consultation", "rescued the crew"),
}
SUBJECTS = {
    "world": ("the government", "rebel forces", "the foreign ministry", "peacekeepers",
              "the army", "neighbouring states"),
    "politics": ("the governing party", "parliament", "the opposition", "the senate",
                 "the cabinet", "regional leaders"),
    "business": ("the central bank", "the carmaker", "the retailer", "the airline",
                 "the mining group", "the tech company"),
    "science": ("researchers", "the space agency", "engineers", "the university team",
                "climate scientists", "the laboratory"),
    "sport": ("the national team", "the defending champions", "the club", "the veteran",
              "the underdogs", "the league leaders"),
    "news": ("the city council", "emergency services", "the transport authority",
             "local officials", "the health service", "the fire brigade"),
}

QUOTES = (
    "We are watching the situation very closely",
    "This is a decisive moment and we cannot afford to wait",
    "Nobody expected the numbers to move this quickly",
    "There is a lot of activity going on beneath the surface",
    "We have made real progress, but the hard part is still ahead",
    "Families deserve answers, and they deserve them now",
    "The decision was not taken lightly",
    "It is far too early to draw conclusions",
    "We will keep every option on the table",
    "The evidence points clearly in one direction",
    "This is what years of preparation look like",
    "Our priority is the safety of everyone involved",
    "Frankly, any day now that could change",
    "We were told one thing and then saw another",
    "The costs will be felt for a generation",
)

# Sentence templates; fields are filled by corpus.py. A few carry Markdown (emphasis, links)
# so the Markdown renderer has the ordinary work a newsroom's copy gives it.
SENTENCES = (
    "{Subject} {action} on {weekday}, {role} {person} said.",
    "\u201c{quote},\u201d {person}, the {role}, told reporters in {city}.",
    "The move follows weeks of pressure from {org} and several partners in {country}.",
    "According to figures released on {weekday}, the total rose by {percent} per cent "
    "compared with the same period last year.",
    "Officials in {city} estimate that about {number} people were affected.",
    "{person}, {a_role} based in {city}, said the outcome was *far from certain*.",
    "Critics argue that {subject} acted too late, and that {topic_lower} had been ignored "
    "for years.",
    "The announcement came as talks resumed in {city} with representatives of {org}.",
    "Analysts said the decision could reshape {topic_lower} policy across the region.",
    "In a statement, {org} said it was \u201cdeeply concerned\u201d and called for calm.",
    "Criticism of {subject} has mounted since {month}, when the first reports emerged.",
    "The figures were published in a [report](https://example.org/reports/{report_id}) "
    "on {weekday}.",
    "Some {number} people gathered outside the offices of {subject} in {city} on {weekday}.",
    "Markets in {country} reacted cautiously, with the main index down {percent} per cent.",
    "\u201c{quote},\u201d said {person}.",
    "It was the {ordinal} such decision this year, and the first since {month}.",
    "Residents of {city} said they had been given little warning of the changes.",
    "The government of {country} has not commented publicly on the matter.",
    "{person} added that a final decision was expected before the end of {month}.",
    "Observers from {org} are expected to publish their findings within weeks.",
)
HEADLINES = (
    "{Subject} {action} in {country}",
    "{City}: {subject} {action} after talks stall",
    "{Org} warns as {subject} {action}",
    "Why {subject} in {country} {action}, and what comes next",
    "{Country} {topic_lower} row deepens as {subject} {action}",
    "{Subject} {action} despite protests in {city}",
    "{Subject} {action} as {topic_lower} fears grow in {country}",
    "{Person} says {subject} {action} “too late”",
    "{Number} affected after {subject} {action} in {city}",
    "{Subject} {action}; {org} calls for calm",
    "{Weekday} in {city}: {subject} {action}",
    "{Subject} {action} for the {ordinal} time since {month}",
    "{Country} and {org}: {subject} {action}",
    "Inside the week {subject} in {city} {action}",
)
SUBHEADINGS = ("What happens next", "The background", "Reaction", "A long road",
               "The numbers", "Voices from the ground", "What it means")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
ORDINALS = ("second", "third", "fourth", "fifth", "sixth")
