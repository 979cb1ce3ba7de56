"""A small corpus (32 short documents on distinct subjects) and 20 questions worded differently
from the text they should find, each with the one document that answers it."""

CORPUS: dict[str, str] = {
    "honeybees.txt": (
        "A forager honeybee that finds nectar returns to the hive and performs the waggle "
        "dance. The angle of the dance relative to vertical encodes the direction of the "
        "flowers relative to the sun, and the length of the waggle run encodes the distance."
    ),
    "aurora.txt": (
        "Auroras appear when charged particles from the solar wind are funnelled by the "
        "Earth's magnetic field into the upper atmosphere near the poles. Oxygen atoms struck "
        "at around 100 km emit the common green light; nitrogen adds purple and red edges."
    ),
    "penguins.txt": (
        "Emperor penguins breed during the Antarctic winter. Males incubate the egg on their "
        "feet and crowd together in dense huddles of thousands of birds, slowly rotating so "
        "that each one takes turns on the windy outside and the warm centre."
    ),
    "aqueducts.txt": (
        "Roman engineers supplied cities with water through aqueducts: channels with a very "
        "gentle, constant downhill gradient, carried over valleys on arcades of stone arches "
        "and through hills in tunnels, ending in distribution tanks called castella."
    ),
    "mariana_trench.txt": (
        "The Mariana Trench in the western Pacific contains the Challenger Deep, about 10,900 "
        "metres below sea level, the lowest known point of the ocean floor. It formed where "
        "the Pacific plate is subducted beneath the Mariana plate."
    ),
    "submarines.txt": (
        "A submarine changes depth with ballast tanks. Flooding the tanks with seawater makes "
        "the boat heavier than the water it displaces so it sinks; blowing compressed air "
        "into the tanks pushes the water out and the boat rises back to the surface."
    ),
    "printing_press.txt": (
        "Around 1440 Johannes Gutenberg in Mainz combined movable metal type, an oil-based "
        "ink and a screw press adapted from wine making. His 42-line Bible showed that books "
        "could be reproduced quickly, and printing spread across Europe within decades."
    ),
    "cacti.txt": (
        "Desert cacti store water in thick, fleshy stems whose pleats let them swell after "
        "rare rains. Spines replace leaves to reduce water loss, a waxy skin seals the "
        "surface, and CAM photosynthesis opens the pores only in the cool night."
    ),
    "coral_bleaching.txt": (
        "Reef-building corals live with symbiotic algae that give them colour and most of "
        "their food. When the sea stays unusually warm, the corals expel the algae and their "
        "white limestone skeleton shows through: this is called bleaching."
    ),
    "sourdough.txt": (
        "Sourdough bread rises without baker's yeast. A starter of flour and water captures "
        "wild yeasts and lactic acid bacteria; the yeasts release carbon dioxide that "
        "inflates the dough while the bacteria give the loaf its tangy flavour."
    ),
    "fresnel_lens.txt": (
        "Augustin Fresnel designed a lens made of concentric rings of glass prisms. It bends "
        "the lamp's light into a narrow horizontal beam with far less glass than a solid "
        "lens, which let lighthouses be seen more than twenty miles out at sea."
    ),
    "black_holes.txt": (
        "A black hole is a region where gravity is so strong that nothing, not even light, "
        "can escape once it crosses the event horizon. Light emitted just outside the horizon "
        "is stretched to longer wavelengths, an effect called gravitational redshift."
    ),
    "photosynthesis.txt": (
        "In photosynthesis, chlorophyll in the chloroplasts of plant leaves absorbs sunlight. "
        "That energy splits water, releasing oxygen, and drives the Calvin cycle, which fixes "
        "carbon dioxide from the air into glucose the plant uses as food."
    ),
    "silk.txt": (
        "Silk comes from the cocoons of the silkworm, the caterpillar of the Bombyx mori "
        "moth, which feeds on mulberry leaves. The cocoons are boiled to loosen the fibre, "
        "and a single unbroken filament up to a kilometre long is unwound and reeled."
    ),
    "bicycle_gears.txt": (
        "On a bicycle, a small front chainring combined with a large rear sprocket gives a "
        "low gear: each pedal stroke turns the wheel less, so climbing a steep hill takes "
        "less force. High gears do the opposite and suit fast riding on the flat."
    ),
    "rosetta_stone.txt": (
        "The Rosetta Stone carries the same decree in hieroglyphs, Demotic and ancient Greek. "
        "Because scholars could read the Greek, Jean-Francois Champollion used it in 1822 to "
        "decipher Egyptian hieroglyphic writing."
    ),
    "tcp_handshake.txt": (
        "A TCP connection begins with a three-way handshake: the client sends SYN, the server "
        "answers SYN-ACK, and the client replies ACK. Both sides then agree on initial "
        "sequence numbers, so lost or reordered segments can be detected and resent."
    ),
    "hot_air_balloons.txt": (
        "A hot air balloon flies because heated air inside the envelope is less dense than "
        "the cooler air around it. The burner heats the air to make the balloon climb; "
        "letting it cool, or opening a vent at the top, brings the balloon down."
    ),
    "vaccines.txt": (
        "A vaccine exposes the immune system to a harmless piece or weakened form of a "
        "pathogen. B cells learn to make matching antibodies and memory cells remain, so a "
        "later infection by the real germ is recognised and fought off quickly."
    ),
    "marathon_training.txt": (
        "Marathon training plans build the weekly long run gradually, peaking at around 30 to "
        "35 kilometres about three weeks before race day, followed by a taper in which "
        "mileage drops so the legs arrive rested at the start line."
    ),
    "volcanoes.txt": (
        "Volcanoes form where magma from the mantle reaches the surface, at subduction zones, "
        "spreading ridges and hotspots. Viscous, gas-rich magma produces explosive eruptions, "
        "while runny basalt builds broad shield volcanoes such as those of Hawaii."
    ),
    "chess_openings.txt": (
        "The Sicilian Defence begins 1.e4 c5. Black fights for the centre from the side, "
        "leading to unbalanced positions in which White often attacks the king while Black "
        "counterattacks on the queenside."
    ),
    "tea_ceremony.txt": (
        "The Japanese tea ceremony, chanoyu, is the ritual preparation of powdered green tea "
        "called matcha. Every gesture of the host, from cleaning the bowl to whisking the "
        "tea, follows a fixed form that expresses harmony, respect, purity and tranquility."
    ),
    "eiffel_tower.txt": (
        "The Eiffel Tower was built from 1887 to 1889 as the entrance arch to the World's "
        "Fair in Paris. Its wrought-iron lattice of about 18,000 parts was assembled with "
        "2.5 million rivets, and it was the tallest structure in the world until 1930."
    ),
    "jazz_improvisation.txt": (
        "In jazz improvisation a soloist invents melodies in real time over the chord "
        "changes of a tune, drawing on scales, arpeggios and licks learned by ear, while the "
        "rhythm section of piano, bass and drums keeps the form."
    ),
    "origami.txt": (
        "Origami is the Japanese art of folding a single square sheet of paper into a shape "
        "without cutting or gluing. The classic crane starts from a bird base made with "
        "valley and mountain folds."
    ),
    "coffee_roasting.txt": (
        "Roasting turns green coffee beans brown. Around 200 degrees Celsius the beans crack "
        "audibly as steam escapes; sugars caramelise and the Maillard reaction creates the "
        "aroma. Light roasts keep more acidity, dark roasts taste bitter and smoky."
    ),
    "compost.txt": (
        "A compost heap needs a mix of green, nitrogen-rich material such as grass clippings "
        "and brown, carbon-rich material such as dry leaves, kept moist and turned so that "
        "aerobic microbes break it down into humus."
    ),
    "glaciers.txt": (
        "Glaciers form where more snow falls in winter than melts in summer. Over years the "
        "snow compacts into dense ice that flows downhill under its own weight, carving "
        "U-shaped valleys and leaving moraines of rock debris."
    ),
    "violin_making.txt": (
        "Antonio Stradivari made violins in Cremona around 1700. A violin's top is carved "
        "from spruce and its back from maple; the varnish, the wood's density and the "
        "arching of the plates all shape its tone."
    ),
    "morse_code.txt": (
        "Morse code represents letters as sequences of short and long signals, dots and "
        "dashes. It was developed for the electric telegraph in the 1830s and 1840s; SOS is "
        "three dots, three dashes, three dots."
    ),
    "wind_turbines.txt": (
        "A wind turbine's blades are shaped like aircraft wings: moving air creates lift "
        "that turns the rotor, and a gearbox speeds the slow rotation up for the generator. "
        "The nacelle yaws to keep the rotor facing into the wind."
    ),
}

QUESTIONS: list[tuple[str, str]] = [
    ("How do bees tell each other where the flowers are?", "honeybees.txt"),
    ("What makes the night sky glow green near the poles?", "aurora.txt"),
    ("Why do penguins stand packed together through the winter?", "penguins.txt"),
    ("How did Rome bring water into its cities?", "aqueducts.txt"),
    ("Where is the deepest point of the sea?", "mariana_trench.txt"),
    ("How does a submarine go down and come back up?", "submarines.txt"),
    ("Who brought movable type printing to Europe?", "printing_press.txt"),
    ("How can a plant survive for months in the desert without rain?", "cacti.txt"),
    ("Why do reefs turn white when the ocean heats up?", "coral_bleaching.txt"),
    ("How does bread rise with a starter instead of packaged yeast?", "sourdough.txt"),
    ("How can a lighthouse beam reach ships so far away?", "fresnel_lens.txt"),
    (
        "Why can nothing escape once it falls past the horizon of a collapsed star?",
        "black_holes.txt",
    ),
    ("How do leaves make food from sunlight?", "photosynthesis.txt"),
    ("Where does silk fabric come from?", "silk.txt"),
    ("Which gear should I pick to ride up a steep hill?", "bicycle_gears.txt"),
    ("How were Egyptian hieroglyphs finally read?", "rosetta_stone.txt"),
    ("How do two computers set up a reliable network connection?", "tcp_handshake.txt"),
    ("What makes a balloon with a burner float upwards?", "hot_air_balloons.txt"),
    ("How do immunisations prepare the body against infections?", "vaccines.txt"),
    ("How far should my longest training run be before running 42 km?", "marathon_training.txt"),
]
